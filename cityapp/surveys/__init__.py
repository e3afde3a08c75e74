"""Surveys domain: builder, lifecycle, one ballot per participant, results, charts, exports."""
