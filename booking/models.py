"""Every table of the service, imported in one place so the metadata is whole.

Migrations compare against this metadata; a model left out here would be
invisible to them.
"""

from .accounts.models import (  # noqa: F401
    AccountLink,
    ApiToken,
    IntegrationKey,
    LoginThrottle,
    User,
    assistant_magistrate,
)
from .audit.models import AuditEntry  # noqa: F401
from .availability.models import (  # noqa: F401
    AvailabilityException,
    AvailabilityRule,
    BusyPeriod,
    BusySource,
    CourtClosure,
    Slot,
    WeeklyWindow,
)
from .bookings.models import (  # noqa: F401
    Booking,
    IdempotencyRecord,
    UrgentRequest,
    WaitlistEntry,
)
from .complaints.models import Complaint, ComplaintEvent, ProtocolCounter  # noqa: F401
from .courts.models import Channel, Comarca, Magistrate, Unit  # noqa: F401
from .notifications.models import OutboxMessage  # noqa: F401
from .scheduler_status import SchedulerRun  # noqa: F401
from .webhooks.models import WebhookDelivery, WebhookSubscriber  # noqa: F401
