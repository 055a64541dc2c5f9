"""The composition root: builds engine, store, handlers and register from explicit settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from service.accounts.accounts import Accounts
from service.accounts.clients import MachineClients
from service.accounts.sessions import Sessions
from service.accounts.throttle import LoginThrottle
from service.advice.trajectories import Clock, Trajectories
from service.handlers import default_handlers
from service.intake.inbox import Inbox
from service.outbox.mail import mailer_from
from service.outbox.outbox import OutboxWorker
from service.scheduling.talks import Talks
from service.schools.policies import SchoolPolicies
from service.schools.register import Register
from service.settings import Settings
from service.store.engine import make_engine
from service.store.keys import KeyRing
from service.store.port import EventStore
from service.store.sql import make_store


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    store: EventStore
    trajectories: Trajectories
    register: Register
    accounts: Accounts
    sessions: Sessions
    throttle: LoginThrottle
    clients: MachineClients
    inbox: Inbox
    clock: Clock
    policies: SchoolPolicies
    talks: Talks

    def close(self) -> None:
        self.engine.dispose()

    def outbox_worker(self) -> OutboxWorker:
        handlers = default_handlers(
            mailer_from(self.settings),
            self.register,
            engine=self.engine,
            clock=self.clock,
            policies=self.policies,
            public_url=self.settings.public_url,
            chain_token=self.settings.chain_token,
            chain_timeout=self.settings.chain_timeout,
            store=self.store,
            talks=self.talks,
            mail_from=self.settings.mail_from,
        )
        return OutboxWorker(self.engine, handlers, self.clock)


def bootstrap(
    settings: Settings, *, clock: Clock = system_clock, store: EventStore | None = None
) -> Container:
    """Everything wired from `settings`. `store` replaces the log's adapter (an
    `InMemoryEventStore` for fast handler tests); the register and accounts still use the
    settings' database, which no connection is opened to until something asks."""
    engine = make_engine(
        settings.database_url,
        connect_timeout=settings.database_connect_timeout,
        statement_timeout=settings.database_statement_timeout,
    )
    if store is None:
        store = make_store(engine, keyring(settings))
    accounts = Accounts(engine, clock)
    policies = SchoolPolicies(store, clock)
    return Container(
        settings=settings,
        engine=engine,
        store=store,
        trajectories=Trajectories(store, clock, policies),
        register=Register(engine),
        accounts=accounts,
        sessions=Sessions(engine, clock),
        throttle=LoginThrottle(engine, clock),
        clients=MachineClients(engine, accounts, clock),
        inbox=Inbox(engine, clock),
        clock=clock,
        policies=policies,
        talks=Talks(store, engine, clock, policies),
    )


def keyring(settings: Settings) -> KeyRing:
    """The key-encryption keys for pupils' keys: made on first use in development only."""
    return KeyRing.from_file(settings.key_file, create=settings.environment == "development")
