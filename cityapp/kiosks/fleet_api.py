"""Staff fleet API (admin): health overview, incidents, availability per device per day."""

from __future__ import annotations

from flask_smorest import Blueprint

from cityapp.auth.models import Role
from cityapp.auth.permissions import staff_required
from cityapp.db import db, utcnow
from cityapp.http.pagination import page_response, paginate
from cityapp.kiosks.models import DeviceIncident
from cityapp.kiosks.schemas.fleet import (
    AvailabilityQuerySchema,
    AvailabilitySchema,
    FleetOverviewSchema,
    IncidentPageSchema,
    IncidentQuerySchema,
    IncidentSchema,
)
from cityapp.kiosks.service import devices, fleet

blp = Blueprint(
    "kiosk_fleet",
    __name__,
    url_prefix="/api/v1/staff/fleet",
    description="Stele fleet health for staff: states, incidents, availability",
)


@blp.get("")
@staff_required(Role.ADMIN)
@blp.response(200, FleetOverviewSchema)
def get_overview():
    """Fleet overview: devices per health state and the devices that need a look (admin)."""
    return fleet.fleet_overview(utcnow())


@blp.get("/incidents")
@staff_required(Role.ADMIN)
@blp.arguments(IncidentQuerySchema, location="query")
@blp.response(200, IncidentPageSchema)
def list_incidents(args):
    """Incidents, newest first; filter by open/closed and device (admin)."""
    query = fleet.incidents_query(state=args["state"], device_id=args["device_id"])
    page = paginate(
        db.session,
        query,
        [(DeviceIncident.opened_at, "desc"), (DeviceIncident.id, "desc")],
        limit=args["limit"],
        cursor=args["cursor"],
    )
    return page_response(page, IncidentSchema())


@blp.get("/incidents/<int:incident_id>")
@staff_required(Role.ADMIN)
@blp.response(200, IncidentSchema)
def get_incident(incident_id):
    """One incident with its recovery record (admin)."""
    return fleet.get_incident(incident_id)


@blp.get("/devices/<int:device_id>/availability")
@staff_required(Role.ADMIN)
@blp.arguments(AvailabilityQuerySchema, location="query")
@blp.response(200, AvailabilitySchema)
def get_availability(args, device_id):
    """Availability of one device per local day: expected and online seconds (admin)."""
    device = devices.get_device(device_id)
    return fleet.summarise_availability(device, utcnow(), since=args["since"], until=args["until"])
