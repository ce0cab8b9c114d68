"""Imports every model so the metadata (Alembic, table truncation in tests) sees all tables."""

from backend.accounts import models as accounts_models  # noqa: F401
from backend.audit import models as audit_models  # noqa: F401
from backend.integrations import models as integration_models  # noqa: F401
from backend.live import models as live_models  # noqa: F401
from backend.monitoring import models as monitoring_models  # noqa: F401
from backend.notices import models as notices_models  # noqa: F401
from backend.parent_meals import models as parent_meals_models  # noqa: F401
from backend.patrols import models as patrols_models  # noqa: F401
from backend.records import models as records_models  # noqa: F401
from backend.regulators import models as regulators_models  # noqa: F401
from backend.risk import models as risk_models  # noqa: F401
from backend.schools import models as schools_models  # noqa: F401
from backend.violations import models as violations_models  # noqa: F401
