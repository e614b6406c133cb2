"""What a fault run found: per subscriber, committed, delivered once and in order, told to reload,
silent gaps; the statuses REST answered; how soon delivery was back to its pre-fault latency.

The invariant (docs/protocol.md, "Reconnecting and recovering"): for every committed comment, every
subscriber of its video's channel receives it once and in order, or is told it cannot be recovered
(``recovered: false`` after asking to recover). Anything else is a silent gap, a duplicate or a
reorder, and the run fails.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from support.faults.traffic import Subscriber, Writer


@dataclass
class Outage:
    """One fault: it ``began``; delivery is expected back from ``back`` (the backend answering
    again, or the fault's start when the system itself must route around it: a frozen leader, a
    black-holed subscription); ``ended`` is when the fault was lifted (``back`` if not given)."""

    began: float
    back: float
    ended: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)  # what the fault saw while it lasted

    @property
    def until(self) -> float:
        return max(self.back, self.ended or self.back)


SETTLED_SECONDS = 1.0


@dataclass(frozen=True)
class Latency:
    """Post-to-delivery latency before the first fault, and how soon it was back to that after each.

    The pre-fault p99 is over comments delivered to everyone before the first fault began.

    A comment's latency is from the start of its POST to the moment the last subscriber had it:
    live, or through the first reload it was told after the POST (which is when a client
    following the protocol reads it over REST). ``back_within`` is the longest, over the faults,
    from ``Outage.back`` to the POST of the first comment that opens a second of posts all
    delivered within ``bound`` (twice the pre-fault p99, and at least 50 ms, so scheduling noise
    on two shared cores is not taken for a fault)."""

    before_p99: float
    bound: float
    back_within: float | None  # None: not back within the bound while the run lasted
    after_p99: float | None  # comments posted once back within the bound

    def __str__(self) -> str:
        after = "-" if self.after_p99 is None else f"{self.after_p99 * 1000:.0f} ms"
        back = "never" if self.back_within is None else f"{self.back_within:.2f} s"
        return (
            f"p99 before {self.before_p99 * 1000:.0f} ms; back within {self.bound * 1000:.0f} ms "
            f"{back} after the backend was back; p99 from then on {after}"
        )


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def measure_latency(writer: Writer, subscribers: list[Subscriber], outages: list[Outage]) -> Latency | None:
    posted = {c: at for at, status, c in writer.answers if status == 201 and c is not None}
    delivered: dict[int, float] = {}
    for subscriber in subscribers:
        live = {r.comment: r.at for r in subscriber.received}
        for comment, at in posted.items():
            had = live.get(comment)
            if had is None:
                had = min((t for t in subscriber.reloaded_at if t >= at), default=None)
            if had is not None:
                delivered[comment] = max(delivered.get(comment, had), had)
    timeline = sorted((posted[c], at - posted[c]) for c, at in delivered.items())
    # Before: comments whose whole trip ended before the first fault (one in flight when it struck
    # belongs to the fault, not to the baseline).
    before = [latency for at, latency in timeline if at + latency < outages[0].began]
    if not before:
        return None
    before_p99 = _p99(before)
    bound = max(2 * before_p99, 0.05)
    back_within: list[float | None] = []  # None: never back within the bound before the next fault
    settled: list[float] = []
    ends = [o.began for o in outages[1:]] + [float("inf")]
    for outage, end in zip(outages, ends, strict=True):
        after = [(at, latency) for at, latency in timeline if outage.back <= at < end]
        if not after:
            continue
        since = _settled_from(after, bound)
        back_within.append(None if since is None else since - outage.back)
        settled += [latency for at, latency in after if since is not None and at >= since]
    if not back_within:
        return None
    return Latency(
        before_p99=before_p99,
        bound=bound,
        back_within=None if None in back_within else max(b for b in back_within if b is not None),
        after_p99=_p99(settled) if settled else None,
    )


def _settled_from(after: list[tuple[float, float]], bound: float) -> float | None:
    """When the first stretch of ``SETTLED_SECONDS`` of posts begins whose every comment was
    delivered within ``bound``: latency is back to its pre-fault level from then on (a single
    later stall of a shared machine does not undo that; ``after_p99`` shows the steady state)."""
    for i, (start, _) in enumerate(after):
        stretch = [latency for at, latency in after[i:] if at < start + SETTLED_SECONDS]
        if after[-1][0] >= start + SETTLED_SECONDS and all(latency <= bound for latency in stretch):
            return start
    return None


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


@dataclass
class Report:
    fault: str
    committed: int
    rows: list[dict[str, Any]]
    statuses: Counter[int | str]  # REST answers to POSTs started while a fault lasted
    first_delivery: float | None  # seconds from the backend being back to the first delivery (worst fault)
    all_delivering: float | None  # ... to the moment every subscriber had received one
    problems: list[str]
    latency: Latency | None = None
    outages: list[Outage] = field(default_factory=list)

    def table(self) -> str:
        lines = [
            f"fault: {self.fault}" + (f" ({len(self.outages)} times)" if len(self.outages) > 1 else ""),
            f"statuses during the outage: {dict(self.statuses)}",
            "time to recover (backend back -> first delivery / every subscriber delivered): "
            + " / ".join(_seconds(s) for s in (self.first_delivery, self.all_delivering)),
            f"delivery latency: {self.latency}" if self.latency else "delivery latency: -",
        ]
        lines += [f"seen during the fault: {o.notes}" for o in self.outages if o.notes]
        lines.append(
            f"{'subscriber':<12}{'committed':>10}{'delivered':>10}{'reloads':>9}{'gaps':>6}{'dups':>6}"
            f"{'reorders':>9}  closes"
        )
        for row in self.rows:
            lines.append(
                f"{row['name']:<12}{self.committed:>10}{row['delivered']:>10}{row['reloads']:>9}"
                f"{row['gaps']:>6}{row['duplicates']:>6}{row['reorders']:>9}  {row['closes']}"
            )
        lines += [f"PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "fault": self.fault,
            "faults_injected": len(self.outages),
            "committed": self.committed,
            "statuses_during_outage": {str(k): v for k, v in self.statuses.items()},
            "first_delivery_seconds": self.first_delivery,
            "every_subscriber_delivering_seconds": self.all_delivering,
            "latency": None if self.latency is None else self.latency.__dict__,
            "seen_during_faults": [o.notes for o in self.outages if o.notes],
            "subscribers": self.rows,
            "problems": self.problems,
        }


def recovery_times(subscribers: list[Subscriber], outages: list[Outage]) -> tuple[float | None, float | None]:
    """The worst, over the faults, of: from ``back`` to the first delivery to anyone, and to the
    moment every subscriber had had one."""
    first: list[float] = []
    every: list[float] = []
    for outage in outages:
        firsts = [min((r.at for r in s.received if r.at >= outage.back), default=None) for s in subscribers]
        seen = [f for f in firsts if f is not None]
        if not seen:
            return None, None
        first.append(min(seen) - outage.back)
        if len(seen) < len(firsts):
            return max(first), None
        every.append(max(seen) - outage.back)
    return (max(first) if first else None), (max(every) if every else None)


def bus_order(subscribers: list[Subscriber]) -> list[int]:
    """Comments in the order the bus published them, as the subscribers saw it: by epoch (in the
    order epochs first appeared), then offset; a comment published again in a later epoch (its
    idempotency key lost with Redis) counts where it first appeared."""
    seen = [r for s in subscribers for r in s.received]
    first_seen: dict[str, float] = {}
    for r in seen:
        first_seen[r.epoch] = min(first_seen.get(r.epoch, r.at), r.at)
    order: list[int] = []
    for r in sorted(seen, key=lambda r: (first_seen[r.epoch], r.offset)):
        if r.comment not in order:
            order.append(r.comment)
    return order


def check_subscriber(
    subscriber: Subscriber, order: list[int], unseen: set[int], problems: list[str]
) -> dict[str, Any]:
    """Per subscriber: every comment delivered once and in order, or covered by a reload."""
    index = {c: i for i, c in enumerate(order)}
    got = {r.comment for r in subscriber.received}
    duplicates = reorders = gaps = 0
    by_segment: dict[int, list[int]] = {}
    for r in subscriber.received:
        by_segment.setdefault(r.segment, []).append(index[r.comment])
    for indices in by_segment.values():
        duplicates += len(indices) - len(set(indices))
        for a, b in itertools.pairwise(indices):
            if b < a:
                reorders += 1
            elif b > a + 1:
                gaps += b - a - 1  # skipped inside one stretch: nobody was told
    last = max((index[c] for c in got), default=-1)
    undelivered = [c for c in order if c not in got and index[c] > last]
    if undelivered:
        problems.append(f"{subscriber.name} never received the last {len(undelivered)} comments")
    if subscriber.received and subscriber.received[0].segment == 1:
        # Subscribed before the first comment: what precedes the first one received went
        # missing silently, since no reload came in between.
        first = min(index[c] for c in got)
        gaps += sum(1 for c in order[:first] if c not in got)
    if not subscriber.reloads:  # committed, received by nobody: only a reload excuses that
        gaps += len(unseen)
    problems += [f"{subscriber.name}: {v}" for v in subscriber.violations]
    gaps, duplicates = max(gaps, subscriber.gaps), max(duplicates, subscriber.duplicates)
    if gaps or duplicates or reorders:
        problems.append(
            f"{subscriber.name}: {gaps} silent gaps, {duplicates} duplicates, {reorders} reorders"
        )
    return {
        "name": subscriber.name,
        "delivered": len(got),
        "reloads": subscriber.reloads,
        "gaps": gaps,
        "duplicates": duplicates,
        "reorders": reorders,
        "closes": dict(subscriber.closes) | {f"error {k}": v for k, v in subscriber.errors.items()},
    }
