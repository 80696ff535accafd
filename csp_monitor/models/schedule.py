"""The schedule models: when the daemon runs which job, in which time zone.

They are part of the monitor configuration file::

    timezone: Europe/London
    schedules:
      - id: monthly-summary
        cron: "0 7 10 * *"        # 07:00 on the 10th of every month
        run: summary
      - id: weekly-exceptions
        cron: "30 8 * * mon"      # 08:30 every Monday
        run: alerts

A cron is checked when the file is read: its five fields (with crontab's
numbering of weekdays, see :mod:`csp_monitor.cron`), and that it never runs in
the hour the clocks go forward (the run would be skipped) or back (it would
run twice).
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from csp_monitor.models.rules import Identifier, KeyedValueError

__all__ = ["DEFAULT_TIMEZONE", "JobKind", "RunRetrySettings", "Schedule", "ScheduleSettings"]

DEFAULT_TIMEZONE = "Europe/London"

JobKind = Literal["summary", "alerts"]
"""What a scheduled job does: send the risk summary, or the alert notifications due."""

_MAX_INTERVAL = 366 * 24 * 3600

# The time zone of the file being validated (see ScheduleSettings).
_TIMEZONE: ContextVar[str | None] = ContextVar("csp_monitor_schedule_timezone", default=DEFAULT_TIMEZONE)


def _whole_number(value: object) -> object:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


Seconds = Annotated[int, BeforeValidator(_whole_number), Field(ge=1, le=_MAX_INTERVAL), WithJsonSchema(
    {"anyOf": [{"type": "integer", "minimum": 1, "maximum": _MAX_INTERVAL},
               {"type": "string", "pattern": r"^\s*[0-9]+\s*$"}]})]


class Schedule(BaseModel):
    """One scheduled job: when it runs (a cron, or an interval) and what it runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Identifier = Field(
        description="A short name for the job, unique in the file; the run ledger and the logs use it, "
                    "so keep it the same from one version of the file to the next.",
        examples=["monthly-summary"])
    cron: str | None = Field(
        default=None,
        description="When to run, as the five fields of crontab in the file's time zone: minute, hour, "
                    "day of the month, month, day of the week (0 or 7 is Sunday, or mon-sun). "
                    "Times in the hour the clocks change are refused.",
        examples=["0 7 10 * *", "30 8 * * mon"])
    interval_seconds: Seconds | None = Field(
        default=None,
        description="Instead of a cron, run every so many seconds, counted from 1970-01-01 00:00 UTC "
                    "(so the run times survive a restart). Meant for tests and for power users; "
                    "a partnership's calendar is better written as a cron.",
        examples=[3600])
    run: JobKind = Field(
        description="What the job does: 'summary' sends the risk summary (once per reporting month), "
                    "'alerts' sends every alert notification that is due.",
        examples=["summary"])
    to: tuple[Identifier, ...] | None = Field(
        default=None,
        description="For a summary: the recipient lists (named in the rules) who receive it, instead "
                    "of the summary's own 'to'. Alerts go to whoever each alert rule notifies.",
        examples=[["board"]])

    @field_validator("cron")
    @classmethod
    def _cron_is_valid(cls, value: str | None) -> str | None:
        if value is None:
            return value
        value = " ".join(value.split())
        try:
            from csp_monitor.cron import (
                clock_change_clashes,
                cron_trigger,
                describe_clash,
                load_timezone,
            )

            cron_trigger(value, UTC)
        except ImportError:  # the scheduler is an extra; the daemon checks again when it starts
            return value
        zone_name = _TIMEZONE.get()
        try:
            zone = load_timezone(zone_name) if zone_name is not None else None
        except ValueError:
            zone = None  # reported at the 'timezone' key
        if zone is not None and zone_name is not None:
            # Only a cron whose every run that day falls in the changing hour is refused: an hourly one just
            # skips or merges the runs of that hour (see csp_monitor.schedule.wall_clock).
            clashes = [clash for clash in clock_change_clashes(value, zone) if not clash.harmless]
            if clashes:
                raise ValueError(describe_clash(value, zone_name, clashes))
        return value

    @model_validator(mode="after")
    def _one_timing(self) -> Schedule:
        if self.cron is None and self.interval_seconds is None:
            raise KeyedValueError(
                "a schedule needs a 'cron' (for example '0 7 10 * *' for 07:00 on the 10th of each month)",
                at=("cron",))
        if self.cron is not None and self.interval_seconds is not None:
            raise KeyedValueError("give either 'cron' or 'interval_seconds', not both",
                                  at=("interval_seconds",))
        if self.to is not None and self.run != "summary":
            raise KeyedValueError(
                "'to' is for summaries: alerts go to whoever each alert rule names in its 'notify'",
                at=("to",))
        return self


class RunRetrySettings(BaseModel):
    """How the daemon retries a scheduled run that failed (bad figures, a missing password, the store down)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_delay: Seconds = Field(default=60, description="Seconds before the first retry of a failed run; each "
                                 "later wait doubles.", examples=[60])
    max_delay: Seconds = Field(default=3600, description="The longest wait between two retries, in seconds.",
                               examples=[3600])
    give_up_after: Seconds = Field(
        default=7 * 86400, description="Seconds after its scheduled time at which a run still failing is no "
        "longer retried (it stays failed, is logged and shown by status; run-once can still run it).",
        examples=[604800])


class ScheduleSettings(BaseModel):
    """The time zone and the scheduled jobs of a monitor configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = Field(
        default=DEFAULT_TIMEZONE,
        description="The time zone the crons are read in, as an IANA name.",
        examples=["Europe/London"])
    schedules: tuple[Schedule, ...] = Field(
        default=(),
        description="The jobs the daemon runs, each with an id, a cron and what it runs.",
        examples=[[{"id": "monthly-summary", "cron": "0 7 10 * *", "run": "summary"},
                   {"id": "weekly-exceptions", "cron": "30 8 * * mon", "run": "alerts"}]])
    retry_runs: RunRetrySettings = Field(
        default_factory=RunRetrySettings,
        description="How a failed scheduled run is retried, for the same occurrence and month, until it succeeds.",
        examples=[{"first_delay": 60, "max_delay": 3600, "give_up_after": 604800}])

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from csp_monitor.cron import load_timezone

        load_timezone(value.strip())
        return value.strip()

    @model_validator(mode="wrap")
    @classmethod
    def _crons_in_this_timezone(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        # A cron's clock-change check needs the time zone, a sibling of the
        # schedules: pass it down so each cron is checked (and reported) on its own.
        zone = data.get("timezone", DEFAULT_TIMEZONE) if isinstance(data, dict) else DEFAULT_TIMEZONE
        token = _TIMEZONE.set(zone.strip() if isinstance(zone, str) else None)
        try:
            return handler(data)
        finally:
            _TIMEZONE.reset(token)

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        seen: dict[str, int] = {}
        for index, schedule in enumerate(self.schedules):
            if schedule.id in seen:
                raise KeyedValueError(
                    f"the schedule id '{schedule.id}' is already used by schedule {seen[schedule.id] + 1}: "
                    "ids must be unique", at=("schedules", index, "id"))
            seen[schedule.id] = index
        return self
