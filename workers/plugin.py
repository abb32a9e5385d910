"""Registration of the task dispatcher, the acknowledgement step and the worker, watch and demo commands."""

from __future__ import annotations

from helpdesk.config import Settings
from helpdesk.outbound.acknowledgement import acknowledge_new_question
from helpdesk.plugins import Registry


def dispatch_send_reply(message_id: int, settings: Settings | None = None) -> None:
    """Queue the send_reply task for a committed outbound message.

    The task goes to the broker of `settings`, or of the environment's settings when not given.
    """
    from workers.dispatch import send_task

    send_task("workers.tasks.send_reply", [message_id], settings)


def register(registry: Registry) -> None:
    from workers.commands import worker
    from workers.demo import demo
    from workers.health import health
    from workers.watch import watch

    registry.task_dispatchers["send_reply"] = dispatch_send_reply
    # Plugins load in the order of their entry-point names, so this step runs
    # after the knowledge-base step ("kb" < "workers"), which sets the
    # language, the urgency and the suggestions that the acknowledgement uses.
    registry.add_ingest_step(acknowledge_new_question)
    registry.add_command(worker)
    registry.add_command(watch)
    registry.add_command(demo)
    registry.add_command(health)
