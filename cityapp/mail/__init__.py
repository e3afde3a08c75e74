"""The shared mail outbox: any domain enqueues in its transaction; the scheduler sends."""
