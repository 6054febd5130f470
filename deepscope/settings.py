"""All server settings in one place: defaults, environment (DEEPSCOPE_*), CLI flags."""

from __future__ import annotations

import os
import re

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

FRAME_SOURCE = re.compile(r"[a-z][a-z0-9+.-]*:(//(\*\.)?[A-Za-z0-9.\-\[\]:]+(:(\*|\d{1,5}))?)?/?")


class Settings(BaseSettings):
    """Every knob of a running server. ``deepscope --help`` lists the CLI flags."""

    model_config = SettingsConfigDict(env_prefix="DEEPSCOPE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes")
    allow_origins: list[str] = Field(
        default_factory=list,
        description="extra exact origins allowed on the WebSocket (scheme://host:port)",
    )
    lan_origins: list[str] = Field(
        default_factory=list, description="origins of this host's LAN addresses (LAN mode)"
    )
    allowed_hosts: list[str] = Field(
        default_factory=list, description="extra Host header values accepted"
    )
    frame_ancestors: list[str] = Field(
        default_factory=list,
        description=(
            "pages that may show this server in a frame (CSP frame-ancestors sources, e.g. "
            "http://localhost:*); none by default. deepscope.show() allows loopback notebooks"
        ),
    )
    max_sessions: int = Field(120, ge=1, le=10_000, description="WebSocket sessions per worker")
    compute_threads: int = Field(
        2, ge=1, le=64, description="threads running REST work; layers-lab picture workers"
    )
    compute_processes: int | None = Field(
        None,
        ge=0,
        le=64,
        description=(
            "frame worker processes for the streaming labs, per uvicorn worker (default: "
            "the cores shared out among the uvicorn workers, at least one each); 0 computes "
            "frames and layers pictures on threads of the server's process"
        ),
    )

    layers_workers: int | None = Field(
        None,
        ge=1,
        le=64,
        description=(
            "layers-lab picture workers per uvicorn worker (default: its share of the cores "
            "+ 1: complete pictures may use every core, and one is always free for the "
            "coarse frames of moving sliders)"
        ),
    )

    @property
    def layers_worker_count(self) -> int:
        if self.layers_workers is not None:
            return self.layers_workers
        return max(1, (os.cpu_count() or 1) // self.workers) + 1

    @property
    def frame_processes(self) -> int:
        if self.compute_processes is not None:
            return self.compute_processes
        return max(1, (os.cpu_count() or 1) // self.workers)

    layers_cache_mb: float = Field(
        64.0, ge=0, le=65_536, description="layers-lab pictures kept for every session (MiB)"
    )
    drag_settle_s: float = Field(
        0.3,
        ge=0,
        le=10,
        description="layers: a dragged slider at rest this long gets its complete frame",
    )
    prewarm_presets: bool = Field(
        True, description="compute the lecture presets' layers pictures at start-up, when idle"
    )
    max_message_bytes: int = Field(64 * 1024, ge=1024, le=16 * 1024 * 1024)
    rate_limit_per_s: float = Field(
        30.0, gt=0, le=10_000, description="sustained client messages per second"
    )
    rate_limit_burst: int = Field(
        120, ge=1, le=100_000, description="messages a client may send at once"
    )
    max_fps: float = Field(30.0, gt=0, le=120, description="frame rate cap per session")
    stalled_reader_s: float = Field(
        5.0, gt=0, le=600, description="a client that reads nothing this long is dropped"
    )
    ping_interval_s: float = Field(10.0, gt=0, le=600)
    redis_url: str | None = Field(
        None,
        description=(
            "Redis (redis://host:port/db) that carries classes between server processes "
            "(--workers > 1, or several hosts); without it one process holds every class"
        ),
    )
    class_max_members: int = Field(
        200, ge=1, le=10_000, description="students one class takes (following or exploring)"
    )
    class_linger_s: float = Field(
        1800.0,
        ge=0,
        le=7 * 24 * 3600,
        description="a class ends this long after its teacher left (unless they come back)",
    )
    class_join_per_min: float = Field(
        60.0,
        gt=0,
        le=10_000,
        description=(
            "class_join / class_resume / class_create attempts a minute per client address "
            "(half of it at once): a class behind one NAT joins in a burst; guessing one of "
            "22⁶ codes at this rate takes years"
        ),
    )
    class_max_handins: int = Field(200, ge=1, le=10_000, description="hand-ins a class keeps")

    @field_validator("frame_ancestors")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        # Each is one CSP source (scheme://host:port, a * port or host part, or a scheme:),
        # never a quote, space, ";" or ",": nothing can add a directive to the policy.
        for source in value:
            if not FRAME_SOURCE.fullmatch(source):
                raise ValueError(
                    f"frame_ancestors: {source!r} is not a CSP source like http://localhost:*"
                )
        return value

    ping_timeout_s: float = Field(10.0, gt=0, le=600)
