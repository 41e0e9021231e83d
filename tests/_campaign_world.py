"""A hand-made world for the linking, scoring and evaluation tests: rows built in Python and
inserted BY NAME into an in-memory case, so each test states exactly what the accounts share."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

import workbench as wb

T0 = datetime(2026, 2, 2, tzinfo=UTC)


@dataclass
class World:
    """Rows of accounts, requests, features and findings, inserted by `into(case)`."""

    accounts: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    features: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)

    def account(self, account_id: str, *, payment: str | None = None, org: str | None = None,
                created_h: float | None = None, domain: str = "mail.example",
                signup: str = "self_serve") -> None:
        # by default each account signs up at its own hour of the month before (no sign-up
        # burst unless a test asks for one)
        if created_h is None:
            created_h = float(sum(map(ord, account_id)) * 7 % 700)
        self.accounts.append({
            "account_id": account_id, "org_id": org or f"org_{account_id}",
            "created_at": T0 - timedelta(days=30) + timedelta(hours=created_h),
            "payment_fingerprint": payment, "email_domain": domain, "signup_path": signup,
            "country": "US", "verified": False,
        })

    def traffic(self, account_id: str, templates: list[str], hours: list[int], *,
                prefix: str | None = None, system_hash: str | None = None, minute: int = 0,
                model: str = "model-a", access_path: str = "direct",
                capability: str = "coding", client: str | None = None,
                simhashes: list[int] | None = None) -> None:
        """One request per (template, hour), at `minute` past the hour, from user agent
        `client` (default: one of the account's own); `simhashes[i]` is template i's SimHash."""
        for h in hours:
            for i, t in enumerate(templates):
                rid = f"req_{account_id}_{h}_{i}_{len(self.requests)}"
                self.requests.append({
                    "request_id": rid, "ts": T0 + timedelta(hours=h, minutes=minute, seconds=i),
                    "account_id": account_id, "org_id": f"org_{account_id}",
                    "api_key_id": f"key_{account_id}", "ip_prefix": prefix,
                    "system_hash": system_hash, "model": model, "access_path": access_path,
                    "input_tokens": 100, "output_tokens": 400,
                    "user_agent": client or f"client/{account_id}",
                })
                self.features.append({"request_id": rid, "template_id": t,
                                      "capability": capability,
                                      "simhash": simhashes[i] if simhashes else None})

    def finding(self, entity_id: str, detector: str, score: float, *, level: str = "high",
                entity_type: str = "account", run_id: str = "run1", ran_h: int = 1000,
                evidence: dict[str, Any] | None = None) -> None:
        self.findings.append({
            "run_id": run_id, "detector": detector, "detector_id": f"id-{detector}",
            "version": "v1", "params": "{}", "ran_at": T0 + timedelta(hours=ran_h),
            "level": level, "entity_type": entity_type, "entity_id": entity_id,
            "score": score, "evidence": json.dumps(evidence or {"share": score}),
            "first_seen": T0, "last_seen": T0 + timedelta(days=1),
        })

    def into(self, case: wb.Case) -> wb.Case:
        with case.connect(write=True) as con:
            for table, rows in (("accounts", self.accounts), ("requests", self.requests),
                                ("features", self.features), ("findings", self.findings)):
                if rows:
                    df = pl.DataFrame(rows, infer_schema_length=None)
                    con.register("_rows", df)
                    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
                    con.unregister("_rows")
        return case


def operation(world: World, prefix: str, n: int, *, payments: list[str | None],
              templates: list[str], hours: list[int], ip: str | None = None,
              score: float = 0.9, detector: str = "cot_elicitation") -> list[str]:
    """A harvesting operation: n accounts in lockstep on `templates`, payment methods dealt
    round-robin from `payments`, each account flagged by `detector` at `score`."""
    ids = [f"{prefix}{i:02d}" for i in range(n)]
    for i, acct in enumerate(ids):
        world.account(acct, payment=payments[i % len(payments)])
        world.traffic(acct, templates, hours, prefix=ip or f"198.51.{prefix}.{i}",
                      client=f"harvest/{prefix}")
        if score > 0:
            world.finding(acct, detector, score)
    return ids


def legit(world: World, prefix: str, n: int, *, ip: str | None = None,
          hours: list[int] | None = None) -> list[str]:
    """Legitimate accounts: own templates, own payment, optionally one shared network prefix."""
    ids = [f"{prefix}{i:03d}" for i in range(n)]
    for acct in ids:
        world.account(acct, payment=f"pay_{acct}")
        world.traffic(acct, [f"tpl_{acct}_{j}" for j in range(3)], hours or [1, 2, 3],
                      prefix=ip or f"203.0.{acct}")
    return ids
