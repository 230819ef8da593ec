"""The agent's expression beside its state (Pilot, real Session events)."""

from __future__ import annotations

import pytest

from agent_tui.session import AgentExpression, AgentExpressionChanged, AgentMood
from agent_tui.ui.agent_state import AgentStateIndicator

from .conftest import emit, make_app
from .events_factory import agent_listening
from .screen_text import screen_text

pytestmark = pytest.mark.timeout(30)


async def test_the_mood_shows_beside_the_state_and_goes_when_it_decays() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(pilot, *agent_listening())
        indicator = app.main.query_one(AgentStateIndicator)
        assert "Listening ·" not in screen_text(app)
        await emit(pilot, AgentExpressionChanged(mood=AgentMood.EXCITED, expression="speak excited"))
        assert indicator.expression == AgentExpression(AgentMood.EXCITED, "speak excited")
        assert "● Listening · excited" in screen_text(app)
        await emit(pilot, AgentExpressionChanged(mood=None, expression=None))
        assert "● Listening · " not in screen_text(app)
        assert "● Listening" in screen_text(app)


async def test_wording_without_a_mood_is_shown_shortened() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await emit(pilot, *agent_listening())
        await emit(pilot, AgentExpressionChanged(mood=None, expression="soft, with genuine care and warmth"))
        assert "● Listening · soft, with genu…" in screen_text(app)
