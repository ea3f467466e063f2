"""One validated `Settings` object for every process (prefix `SUPPLYBRIDGE_`).

Development defaults make `supplybridge up` work with no configuration. Outside
`environment=development` the placeholder secrets below are refused at start, so a
production deployment cannot run with a key that is published in this repository, and so are
weak ones (short HMAC keys, an all-zero or patterned payload key: runtime/secret_strength.py).
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import quote

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from domain.master_data.policy import SurvivorshipPolicy, default_policy, parse_policy
from runtime.secret_strength import hmac_key_weakness, payload_key_weakness

DEV_PAYLOAD_KEY = "c3VwcGx5YnJpZGdlLWRldmVsb3BtZW50LWtleS0zMmI="  # base64 of 32 bytes, dev only
DEV_WEBHOOK_SECRET = "supplybridge-dev-webhook-secret"
DEV_SANDBOX_TOKEN = "supplybridge-dev-sandbox-token"
DEV_JWT_SECRET = "supplybridge-dev-jwt-signing-secret-not-for-production"
DEV_TRYTON_PASSWORD = "supplybridge-dev-tryton-admin"
_PLACEHOLDERS = {
    DEV_PAYLOAD_KEY,
    DEV_WEBHOOK_SECRET,
    DEV_SANDBOX_TOKEN,
    DEV_JWT_SECRET,
    DEV_TRYTON_PASSWORD,
    "changethis",
    "",
}


# The internal systems whose deliveries arrive at /v1/events (what a `systems` claim may name).
EventSystem = Literal["erp", "vendor-management", "vendor-channel", "inventory"]
EVENT_SYSTEMS: tuple[str, ...] = get_args(EventSystem)
SupplierRef = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class ApiGrant(BaseModel):
    """What an API key or an OAuth2 client may do. Keys and client secrets are configured by
    their SHA-256 (hex), never in clear."""

    subject: str = Field(min_length=1, max_length=200)
    secret_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list, description="teams whose tasks it may decide; * for all")
    suppliers: list[SupplierRef] = Field(
        default_factory=list, description="ERP supplier ids whose events it may send (a vendor partner)"
    )
    systems: list[EventSystem] = Field(
        default_factory=list, description="internal systems whose events it may send (e.g. erp)"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SUPPLYBRIDGE_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    state_dir: Path = Field(default=Path(".supplybridge"), description="Temporal SQLite file, store, sandbox data")

    # Temporal
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "supplybridge"
    temporal_ui_port: int = 8233
    temporal_ui_url: str | None = Field(default=None, description="defaults to http://127.0.0.1:<ui port>")
    temporal_tls: bool = False
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    temporal_api_key: SecretStr | None = None
    payload_encryption_key: SecretStr = SecretStr(DEV_PAYLOAD_KEY)
    payload_key_id: str = "dev"

    # Our own services
    host: str = "127.0.0.1"
    api_port: int = 8000
    sandbox_port: int = 8300
    sandbox_url: str | None = Field(default=None, description="defaults to http://127.0.0.1:<sandbox port>")
    sandbox_token: SecretStr = SecretStr(DEV_SANDBOX_TOKEN)
    webhook_secret: SecretStr = SecretStr(DEV_WEBHOOK_SECRET)
    erp_url: str | None = Field(default=None, description="defaults to <sandbox url>/erp")
    vendor_management_url: str | None = Field(default=None, description="defaults to <sandbox url>/vendor-management")
    contracts_url: str | None = Field(default=None, description="defaults to <sandbox url>/contracts")
    screening_url: str | None = Field(default=None, description="defaults to <sandbox url>/screening")
    inventory_url: str | None = Field(default=None, description="defaults to <sandbox url>/inventory")
    vendor_channel_url: str | None = Field(default=None, description="defaults to <sandbox url>/vendor-channel")
    ap_url: str | None = Field(default=None, description="AP automation; defaults to <sandbox url>/ap")
    analytics_url: str | None = Field(
        default=None, description="analytics platform; defaults to <sandbox url>/analytics"
    )
    store_url: str | None = Field(default=None, description="SQLAlchemy URL; defaults to SQLite in state_dir")
    vendor_webhook_url: str | None = Field(
        default=None,
        description="where the sandbox vendor system sends status events; defaults to the API's receiver",
    )
    vendor_channel_webhook_url: str | None = Field(
        default=None,
        description="where the sandbox vendor channel sends PO acknowledgements; defaults to the API's receiver",
    )
    erp_webhook_url: str | None = Field(
        default=None, description="where the sandbox ERP sends receiving events; defaults to the API's receiver"
    )
    inventory_webhook_url: str | None = Field(
        default=None, description="where the sandbox inventory sends stock breaches; defaults to the API's receiver"
    )
    http_timeout_seconds: float = 10.0

    # The ERP behind the ERP ports: the sandbox's /erp, or Tryton over JSON-RPC (adapters/tryton/)
    erp: Literal["sandbox", "tryton"] = Field(default="sandbox", description="`up --erp tryton` starts one")
    tryton_url: str | None = Field(default=None, description="a Tryton you run; defaults to the one `up` starts")
    tryton_port: int = Field(default=8320, description="where `up --erp tryton` serves trytond")
    tryton_database: str = Field(default="supplybridge", pattern=r"^[A-Za-z0-9_-]{1,63}$")
    tryton_user: str = "admin"
    tryton_password: SecretStr = SecretStr(DEV_TRYTON_PASSWORD)
    tryton_faults: str | None = Field(
        default=None, description="inject faults into the worker's Tryton calls: error_rate=0.2,error_phase=after"
    )

    # The governed API
    jwt_secret: SecretStr = Field(default=SecretStr(DEV_JWT_SECRET), description="HS256 key of API tokens")
    jwt_issuer: str = "supplybridge"
    jwt_audience: str = "supplybridge-api"
    jwt_ttl_minutes: int = Field(default=60, ge=1, le=24 * 60)
    api_keys: list[ApiGrant] = Field(default_factory=list, description="system callers (X-API-Key)")
    oauth_clients: dict[str, ApiGrant] = Field(default_factory=dict, description="client_id -> client credentials")
    idempotency_retention_hours: int = Field(default=24, ge=1)
    rate_limit_per_minute: int = Field(default=600, ge=1, description="requests per principal per minute")
    address_rate_limit_per_minute: int = Field(
        default=1200, ge=1, description="requests per client address per minute, counted before authentication"
    )
    jwt_max_lifetime_minutes: int = Field(
        default=24 * 60, ge=1, description="longest accepted bearer token lifetime (exp - iat)"
    )
    max_request_bytes: int = Field(default=256 * 1024, ge=1024)
    intake_max_file_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="largest file `intake` and POST /v1/intake/files take"
    )

    # Scheduled syncs (Temporal Schedules, created or updated by `supplybridge up`)
    schedules_enabled: bool = Field(default=True, description="`up` creates/updates the Temporal Schedules")
    sync_suppliers_every_minutes: int = Field(default=60, ge=1, description="master-data-sync-suppliers")
    sync_items_every_minutes: int = Field(default=24 * 60, ge=1, description="master-data-sync-items")
    sync_contracts_every_minutes: int = Field(default=24 * 60, ge=1, description="master-data-sync-contracts")
    compliance_rescreen_every_days: int = Field(default=30, ge=1, description="compliance-rescreen (LEIE)")
    credential_expiry_every_hours: int = Field(default=24, ge=1, description="credential-expiry")
    replenishment_scan_every_minutes: int = Field(
        default=15, ge=1, description="replenishment-scan: balances at or below their reorder point, event lost"
    )
    schedule_catchup_window_minutes: int = Field(
        default=60, ge=1, description="how late a missed tick may still run (after the server was down)"
    )

    # File and X12 EDI intake
    edi_isa_qualifier: str = Field(default="ZZ", min_length=2, max_length=2, description="our ISA05/07 qualifier")
    edi_isa_id: str = Field(default="MERCYHEALTH", min_length=1, max_length=15, description="our ISA id (ISA06/08)")
    edi_gs_id: str = Field(default="MERCYHEALTH", min_length=1, max_length=15, description="our GS02/GS03 id")
    intake_inbox_dir: Path | None = Field(default=None, description="the watched folder; <state dir>/intake/inbox")
    intake_inbox_every_minutes: int = Field(default=1, ge=1, description="intake-inbox: how often the folder is read")
    edi_ack_sla_minutes: int = Field(
        default=60, ge=1, description="an 850 no 997/999 answered this long becomes a task for purchasing"
    )

    # Process rules
    survivorship_policy: Path | None = Field(
        default=None, description="master-data survivorship policy file (JSON); defaults to the shipped one"
    )
    review_sla_hours: float = 24.0
    po_ack_sla_hours: float = Field(default=24.0, gt=0, description="vendor acknowledgement due; then escalated")
    po_ack_cancel_after_hours: float = Field(default=24.0, gt=0, description="after the escalation: PO cancelled")
    decision_sla_hours: float = Field(default=24.0, gt=0, description="pricing approvals, contract exceptions")
    worker_graceful_shutdown_seconds: float = Field(
        default=10.0, ge=0, description="on SIGTERM, how long running activities may take to finish"
    )
    po_invoice_sla_days: float = Field(
        default=30.0, gt=0, description="once a PO is fully received, its invoice is due; then accounts-payable"
    )
    po_approval_line_amount: Decimal | None = Field(
        default=Decimal(100_000), gt=0, description="a PO line worth more needs a purchasing approval"
    )
    po_approval_order_amount: Decimal | None = Field(
        default=Decimal(250_000), gt=0, description="a PO worth more needs a purchasing approval"
    )
    invoice_resolution_sla_hours: float = Field(default=48.0, gt=0, description="invoice exceptions")
    replenishment_approval_limit: Decimal = Field(
        default=Decimal(5_000), gt=0, description="a replenishment order worth more waits for a purchasing approval"
    )
    replenishment_critical_approval_limit: Decimal = Field(
        default=Decimal(25_000), gt=0, description="the same for items the item master flags critical"
    )
    events_source: str = Field(
        default="urn:supplybridge:platform", min_length=1, max_length=200, description="the CloudEvents `source`"
    )
    events_schema_base: str | None = Field(
        default=None, pattern=r"^https?://", description="public URL of /v1/events/schemas (an event's dataschema)"
    )
    events_broker: Literal["nats"] = Field(
        default="nats", description="the message broker adapter of broker subscriptions"
    )
    events_broker_url: str = Field(default="nats://127.0.0.1:4222", description="the broker subscriptions publish to")
    events_stream: str = Field(
        default="SUPPLYBRIDGE_EVENTS",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="the JetStream stream (created if missing)",
    )
    events_subject_prefix: str = Field(
        default="supplybridge.events",
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        description="a broker subject is <prefix>.<event type>",
    )
    events_poll_seconds: float = Field(
        default=0.5, gt=0, le=60, description="the relay looks for new events this often"
    )
    events_retry_hours: float = Field(
        default=24.0, gt=0, description="a delivery failing this long is dead-lettered (backoff up to 5 minutes)"
    )
    team_notification_urls: dict[str, str] = Field(
        default_factory=dict, description="team -> Slack/Teams-compatible incoming-webhook URL for its notifications"
    )
    telemetry: Literal["none", "console"] = "none"
    otlp_endpoint: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="OTLP/HTTP collector (traces and metrics), e.g. http://otel:4318",
    )
    worker_metrics_port: int | None = Field(
        default=9464, ge=0, le=65535, description="Prometheus /metrics of `supplybridge worker` (None: off)"
    )
    alert_webhook_url: str | None = Field(
        default=None, pattern=r"^https?://", description="Slack-compatible incoming webhook of the alerts"
    )
    alert_rules: Path | None = Field(default=None, description="alert rules (JSON); the built-in ones by default")
    alert_renotify_minutes: int = Field(default=60, ge=1, description="an alert still open is posted again after")
    alerts_every_minutes: int = Field(default=1, ge=1, description="alerts-evaluate: how often the rules are checked")
    kpi_report_every_hours: int = Field(default=24, ge=1, description="kpi-report: the report written to reports/")
    stuck_after_minutes: int = Field(default=10, ge=1, description="a run whose activity retries this long is stuck")

    @model_validator(mode="after")
    def _refuse_placeholders_outside_development(self) -> Settings:
        if self.environment == "development":
            return self
        secrets = ("payload_encryption_key", "webhook_secret", "sandbox_token", "jwt_secret")
        for name in (*secrets, *(("tryton_password",) if self.erp == "tryton" else ())):
            if getattr(self, name).get_secret_value() in _PLACEHOLDERS:
                raise ValueError(
                    f"SUPPLYBRIDGE_{name.upper()} must be set to a real secret when environment is {self.environment}"
                )
        weak = {  # runtime/secret_strength.py says what is weak and why
            "jwt_secret": hmac_key_weakness(self.jwt_secret.get_secret_value()),
            "webhook_secret": hmac_key_weakness(self.webhook_secret.get_secret_value()),
            "payload_encryption_key": payload_key_weakness(self.payload_encryption_key.get_secret_value()),
        }
        for name, why in weak.items():
            if why:
                raise ValueError(f"SUPPLYBRIDGE_{name.upper()} is too weak for environment {self.environment}: {why}")
        return self

    @property
    def resolved_sandbox_url(self) -> str:
        return (self.sandbox_url or f"http://127.0.0.1:{self.sandbox_port}").rstrip("/")

    def system_url(self, system: str) -> str:
        """Base URL of one external system: its own setting, else the sandbox prefix."""
        explicit = getattr(self, f"{system.replace('-', '_')}_url")
        return (explicit or f"{self.resolved_sandbox_url}/{system}").rstrip("/")

    @property
    def resolved_tryton_url(self) -> str:
        return (self.tryton_url or f"http://127.0.0.1:{self.tryton_port}").rstrip("/")

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{(self.state_dir / 'supplybridge.sqlite').resolve()}"

    @property
    def resolved_ui_url(self) -> str:
        return (self.temporal_ui_url or f"http://127.0.0.1:{self.temporal_ui_port}").rstrip("/")

    @property
    def resolved_events_schema_base(self) -> str:
        return (self.events_schema_base or f"{self.api_url}/v1/events/schemas").rstrip("/")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def resolved_vendor_webhook_url(self) -> str:
        return self.vendor_webhook_url or f"{self.api_url}/v1/events/vendor-status"

    @property
    def resolved_vendor_channel_webhook_url(self) -> str:
        return self.vendor_channel_webhook_url or f"{self.api_url}/v1/events/po-acknowledgements"

    @property
    def resolved_erp_webhook_url(self) -> str:
        return self.erp_webhook_url or f"{self.api_url}/v1/events/erp-receipts"

    @property
    def resolved_intake_inbox(self) -> Path:
        return (self.intake_inbox_dir or self.state_dir / "intake" / "inbox").resolve()

    @property
    def resolved_inventory_webhook_url(self) -> str:
        return self.inventory_webhook_url or f"{self.api_url}/v1/events/inventory"

    def load_survivorship_policy(self) -> SurvivorshipPolicy:
        """The policy file named by SUPPLYBRIDGE_SURVIVORSHIP_POLICY, else the one shipped
        (domain/master_data/survivorship.v1.json). A bad file names the field and the reason."""
        if self.survivorship_policy is None:
            return default_policy()
        return parse_policy(self.survivorship_policy.read_text(encoding="utf-8"))

    @property
    def review_sla(self) -> timedelta:
        return timedelta(hours=self.review_sla_hours)

    def workflow_url(self, workflow_id: str, run_id: str | None = None) -> str:
        """The run's page in the Temporal UI. Without `run_id` the UI opens the id's latest run
        (which may be a later run of the same id); with it, exactly that run's history."""
        url = f"{self.resolved_ui_url}/namespaces/{quote(self.temporal_namespace, safe='')}/workflows/"
        url += quote(workflow_id, safe="")
        return f"{url}/{quote(run_id, safe='')}/history" if run_id else url


class SettingsInvalid(ValueError):
    """Settings that cannot be read: `errors` names each variable (`SUPPLYBRIDGE_...`) and why."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(e["reason"] if e["field"] in e["reason"] else f"{e['field']}: {e['reason']}"
                                   for e in errors))  # fmt: skip


def load_settings(**values: Any) -> Settings:
    """`Settings` from the environment, `.env` and `values` (command-line options); what cannot be
    parsed or validated is a `SettingsInvalid` naming the variable, never a bare field name or a
    pydantic-settings message about its sources."""
    try:
        return Settings(**values)
    except SettingsError as error:  # a complex value (a list, a dict) that is not JSON
        raise SettingsInvalid([_unparsable(error)]) from None
    except ValidationError as error:
        raise SettingsInvalid([_invalid(item, values) for item in error.errors()]) from None


def setting_variable(field: str) -> str:
    return f"SUPPLYBRIDGE_{field.upper()}"


def _unparsable(error: SettingsError) -> dict[str, str]:
    found = re.search(r'field "(\w+)" from source "(\w+)"', str(error))
    if found is None:
        return {"field": "settings", "reason": str(error)}
    field, source = found.groups()
    where = ".env" if "DotEnv" in source else "the environment"
    cause = error.__cause__
    why = f"not valid JSON ({cause})" if isinstance(cause, ValueError) else str(cause or error)
    return {"field": setting_variable(field), "reason": f"{why}, in {where}; it must be a JSON document"}


def _invalid(item: Any, values: dict[str, Any]) -> dict[str, str]:
    loc = [str(part) for part in item["loc"]]
    reason = str(item["msg"]).removeprefix("Value error, ")
    if not loc:  # a rule of the model validator: its message names the variable
        named = re.search(r"SUPPLYBRIDGE_\w+", reason)
        return {"field": named.group() if named else "settings", "reason": reason}
    head = f"{loc[0]} (command-line option)" if loc[0] in values else setting_variable(loc[0])
    path = "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in loc[1:])
    return {"field": head + path, "reason": reason}
