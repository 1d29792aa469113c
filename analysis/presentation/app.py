"""A live Mesa SolaraViz app of one negotiation: step through the rounds, move the
sliders, reset, and watch the offers, the USA's moves, the publics and the outcome space.

Served by ``dipsim app [SCENARIO]`` (see :func:`serve`, which runs ``solara run`` on this
file with the scenario in ``DIPSIM_APP_SCENARIO``). It needs the ``app`` extra
(``pip install -e '.[app]'``) and no internet: Solara's front-end comes from the
solara-assets package, and the server runs with Solara's telemetry and PyPI version check
off (see :func:`server_command`). Text is plain HTML, not Solara's Markdown, which fetches
KaTeX from a CDN.

Sliders take effect on Reset (SolaraViz builds a new model with them); Step plays one
round, the play button plays rounds until the negotiation ends.
"""

from __future__ import annotations

import html
import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from dipsim.sim import protocol
from dipsim.sim import scenario as scenario_mod
from dipsim.sim.model import NegotiationModel
from dipsim.sim.scenario import Scenario, ScenarioError

APP_FILE = Path(__file__).resolve()
SCENARIO_VARIABLE = "DIPSIM_APP_SCENARIO"
DEFAULT_SCENARIO = "baseline"

# Offline: no telemetry, no call home, Solara's front-end from solara-assets (through its
# local asset proxy, whose cache solara-assets fills).
OFFLINE_ENVIRONMENT = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    "SOLARA_ASSETS_PROXY": "true",
}


# ----------------------------------------------------------------------- the scenario


def scenario_path(scenario: str | os.PathLike | None = None) -> Path:
    """The scenario file, absolute: a path as given (from the working directory), or a name
    as ``dipsim run`` takes it; the baseline without one."""
    if scenario is None or str(scenario) == "":
        scenario = DEFAULT_SCENARIO
    return scenario_mod.find_scenario(Path(scenario).expanduser()).resolve()


def load_scenario(scenario: str | os.PathLike | None = None) -> Scenario:
    """Load and validate the scenario the app shows (a bargaining scenario)."""
    path = scenario_path(scenario)
    if not path.is_file():
        raise ScenarioError(str(path), "", "no such scenario file")
    spec = scenario_mod.load(path)
    if not isinstance(spec, Scenario):
        raise ScenarioError(str(path), "protocol", "the app shows bargaining scenarios only")
    return spec


SPEC: Scenario = load_scenario(os.environ.get(SCENARIO_VARIABLE) or None)


# ----------------------------------------------------------------------- sliders -> settings


def _ids(spec: Scenario) -> tuple[str, str]:
    return spec.party_ids


def _pressed(spec: Scenario) -> str | None:
    """The party the outside power presses (the one with an autonomy), if any."""
    outside = spec.outside_power
    if outside is None or not outside[1].active:
        return None
    return outside[1].acts_on


def scaled_opposition(values: list[float], scale: float) -> list[float]:
    """A public's territory effects with its opposition scaled: how far its acceptance of
    each option falls short of its acceptance of the option it likes best is multiplied by
    ``scale`` (1 = as polled, 0 = indifferent). For the Russian public (best: no transfer,
    effect 0) this scales every effect; for the Japanese public (best: all four islands) it
    scales how far fewer islands fall short of all four. Clipped to the allowed [-1, 1]."""
    top = max(values)
    return [round(float(np.clip(top - scale * (top - v), -1.0, 1.0)), 6) for v in values]


def settings_for(
    spec: Scenario,
    *,
    us_pressure: float | None = None,
    russian_opposition: float = 1.0,
    japanese_opposition: float = 1.0,
    japan_autonomy: float | None = None,
    russia_beta: float | None = None,
    japan_beta: float | None = None,
    deadline: int | None = None,
) -> dict[str, object]:
    """The scenario key paths the sliders set (only those that differ from the scenario)."""
    out: dict[str, object] = {}
    first, second = _ids(spec)
    outside = spec.outside_power
    if us_pressure is not None and outside is not None and float(us_pressure) != outside[1].pressure.max.value:
        out[f"outside.{outside[0]}.pressure.max.value"] = float(us_pressure)
    for pid, scale in ((first, russian_opposition), (second, japanese_opposition)):
        effect = spec.parties[pid].public.effects.get("territory")
        if effect is not None and float(scale) != 1.0:
            out[f"parties.{pid}.public.effects.territory.values"] = scaled_opposition(list(effect.values), float(scale))
    pressed = _pressed(spec)
    if japan_autonomy is not None and pressed is not None:
        now = spec.parties[pressed].autonomy
        if now is None or float(japan_autonomy) != now.value:
            out[f"parties.{pressed}.autonomy.value" if now is not None else f"parties.{pressed}.autonomy"] = (
                float(japan_autonomy) if now is not None else {"value": float(japan_autonomy), "source": "dipsim app"}
            )
    for pid, beta in ((first, russia_beta), (second, japan_beta)):
        strategy = spec.parties[pid].strategy
        if beta is not None and strategy.kind == "time_dependent" and float(beta) != strategy.beta:
            out[f"parties.{pid}.strategy.beta"] = float(beta)
    if deadline is not None and int(deadline) != spec.negotiation.deadline:
        out["negotiation.deadline"] = int(deadline)
    return out


def seed_of(seed: int | str) -> int:
    """The run's seed from the seed box: a whole number, or any text (hashed)."""
    text = str(seed).strip()
    try:
        value = int(text)
    except ValueError:
        value = zlib.crc32(text.encode())
    return abs(value) % 2**63


def _default(value: float, lo: float, hi: float) -> float:
    return float(min(max(value, lo), hi))


class AppModel(NegotiationModel):
    """The Mesa model of one negotiation of the app's scenario, with the sliders as
    keyword parameters (SolaraViz builds it with them on Reset)."""

    spec: Scenario = SPEC

    def __init__(
        self,
        *,
        us_pressure: float | None = None,
        russian_opposition: float = 1.0,
        japanese_opposition: float = 1.0,
        japan_autonomy: float | None = None,
        russia_beta: float | None = None,
        japan_beta: float | None = None,
        deadline: int | None = None,
        seed: int | str | None = None,
    ):
        spec = type(self).spec
        settings = settings_for(
            spec,
            us_pressure=us_pressure,
            russian_opposition=russian_opposition,
            japanese_opposition=japanese_opposition,
            japan_autonomy=japan_autonomy,
            russia_beta=russia_beta,
            japan_beta=japan_beta,
            deadline=deadline,
        )
        super().__init__(spec, rng=seed_of(spec.run.seed if seed is None else seed), **settings)
        self.applied = scenario_mod.with_settings(spec, settings) if settings else spec
        self.opposition = (float(russian_opposition), float(japanese_opposition))


def model_params(spec: Scenario) -> dict[str, dict]:
    """The sliders (and the seed box), at the scenario's values."""
    first, second = _ids(spec)
    labels = {pid: spec.parties[pid].label for pid in (first, second)}
    publics = {pid: spec.parties[pid].public.label for pid in (first, second)}
    params: dict[str, dict] = {}
    outside = spec.outside_power
    if outside is not None and outside[1].active:
        params["us_pressure"] = {
            "type": "SliderFloat",
            "label": f"{outside[1].label} pressure (most)",
            "value": outside[1].pressure.max.value,
            "min": 0.0,
            "max": 1.0,
            "step": 0.05,
        }
    params["russian_opposition"] = {
        "type": "SliderFloat",
        "label": f"{publics[first]} opposition (x polled)",
        "value": 1.0,
        "min": 0.0,
        "max": 1.5,
        "step": 0.05,
    }
    params["japanese_opposition"] = {
        "type": "SliderFloat",
        "label": f"{publics[second]} opposition (x polled)",
        "value": 1.0,
        "min": 0.0,
        "max": 1.5,
        "step": 0.05,
    }
    pressed = _pressed(spec)
    if pressed is not None:
        autonomy = spec.parties[pressed].autonomy
        params["japan_autonomy"] = {
            "type": "SliderFloat",
            "label": f"{labels[pressed]}'s autonomy",
            "value": autonomy.value if autonomy is not None else 0.0,
            "min": 0.0,
            "max": 1.0,
            "step": 0.05,
        }
    for key, pid in (("russia_beta", first), ("japan_beta", second)):
        strategy = spec.parties[pid].strategy
        if strategy.kind == "time_dependent":
            params[key] = {
                "type": "SliderFloat",
                "label": f"{labels[pid]}'s concession exponent beta",
                "value": _default(strategy.beta, 0.1, 5.0),
                "min": 0.1,
                "max": 5.0,
                "step": 0.1,
            }
    params["deadline"] = {
        "type": "SliderInt",
        "label": "Deadline (rounds)",
        "value": int(_default(spec.negotiation.deadline, 5, 60)),
        "min": 5,
        "max": 60,
        "step": 1,
    }
    params["seed"] = {"type": "InputText", "label": "Seed", "value": str(spec.run.seed)}
    return params


# ----------------------------------------------------------------------- what the page shows


def state_html(model: AppModel) -> str:
    """The round, who moved and what happened, the standing offers, how it ended, and the
    settings the model was built with, as HTML (not Markdown: Solara's Markdown loads KaTeX
    from a CDN)."""
    tables, st = model.tables, model.state
    ids, labels = tables.party_ids, tables.labels
    actors = [*ids, *([tables.outside_id] if tables.outside_id else [])]
    deadline = model.applied.negotiation.deadline
    e = html.escape
    out = [f"<p><b>Rounds played: {model.steps}</b> of at most {deadline}</p>"]
    if model.steps == 0:
        out.append(f"<p>Nothing yet: {e(labels[model.applied.negotiation.opener])} opens. Press Step or play.</p>")
    else:
        last = model.datacollector.model_vars
        mover, action = last["mover"][-1], last["action"][-1]
        out.append(f"<p>Round {last['round'][-1]}: <b>{e(labels[mover])}</b> moved: <b>{e(action)}</b></p>")
        items = []
        for k, pid in enumerate(ids):
            pkg = int(st.offers[k])
            if pkg < 0:
                items.append(f"<li>{e(labels[pid])}'s offer: none yet</li>")
                continue
            worth = ", ".join(f"{e(labels[a])} {last[f'offer_{pid}_utility_{a}'][-1]:.2f}" for a in actors)
            items.append(
                f"<li>{e(labels[pid])}'s offer (package {pkg}): {e(tables.space.label(pkg))}; worth to {worth}</li>"
            )
        out.append(f"<ul>{''.join(items)}</ul>")
    reason = st.reason
    if reason == protocol.ONGOING:
        out.append("<p>The negotiation goes on.</p>")
    else:
        agreed = st.package
        terms = f" on package {agreed}: {e(tables.space.label(agreed))}" if agreed >= 0 else ""
        ended = protocol.reason_label(reason, tuple(labels[p] for p in ids))
        out.append(f"<p><b>Ended after round {st.end_round}: {e(ended)}</b>{terms}</p>")
    a = model.applied
    parts = []
    outside = a.outside_power
    if outside is not None and outside[1].active:
        parts.append(f"{e(outside[1].label)} pressure at most {outside[1].pressure.max.value:.2f}")
    parts.append(
        f"public opposition x{model.opposition[0]:.2f} ({e(labels[ids[0]])}), "
        f"x{model.opposition[1]:.2f} ({e(labels[ids[1]])})"
    )
    pressed = _pressed(a)
    if pressed is not None and a.parties[pressed].autonomy is not None:
        parts.append(f"{e(labels[pressed])}'s autonomy {a.parties[pressed].autonomy.value:.2f}")
    for pid in ids:
        if a.parties[pid].strategy.kind == "time_dependent":
            parts.append(f"{e(labels[pid])}'s beta {a.parties[pid].strategy.beta:.2f}")
    parts.append(f"deadline {deadline}")
    parts.append(f"seed {model.seed}")
    out.append(f"<p style='font-size: 0.85em'>This model: {'; '.join(parts)}</p>")
    return "".join(out)


def _frame(model: AppModel):
    return model.datacollector.get_model_vars_dataframe()


def _rounds_axis(ax, model: AppModel) -> None:
    ax.set_xlim(0, model.applied.negotiation.deadline + model.applied.negotiation.deadline_spread + 0.5)
    ax.set_xlabel("round")
    ax.grid(alpha=0.3)


def offers_figure(model: AppModel) -> Figure:
    """Each side's standing offer, valued by every actor, round by round."""
    from dipsim.analysis.presentation.plots import colour

    tables = model.tables
    ids, labels = tables.party_ids, tables.labels
    actors = [*ids, *([tables.outside_id] if tables.outside_id else [])]
    df = _frame(model)
    fig = Figure(figsize=(8, 3.4), dpi=90, layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, p in zip(axes, ids):
        for j, a in enumerate(actors):
            column = f"offer_{p}_utility_{a}"
            if column in df:
                ax.plot(df["round"], df[column], color=colour(a, j), marker="o", ms=3, lw=1.6, label=f"to {labels[a]}")
        ax.set_title(f"{labels[p]}'s standing offer, worth", fontsize=10)
        _rounds_axis(ax, model)
    axes[0].set_ylabel("utility (utility units)")
    if not df.empty:
        axes[1].legend(fontsize=8, loc="best")
    return fig


def actions_figure(model: AppModel) -> Figure:
    """The outside power's pressure and rhetoric, and each public's acceptance of each
    side's standing offer, round by round."""
    from dipsim.analysis.presentation.plots import colour

    tables = model.tables
    ids, labels, oid = tables.party_ids, tables.labels, tables.outside_id
    df = _frame(model)
    fig = Figure(figsize=(8, 3.4), dpi=90, layout="constrained")
    left, right = fig.subplots(1, 2)
    if oid:
        for column, style, what in (
            (f"{oid}_pressure", "-", "pressure"),
            (f"{oid}_pressure_felt", ":", "pressure felt"),
            (f"{oid}_rhetoric", "--", "rhetoric"),
        ):
            if column in df:
                left.plot(
                    df["round"],
                    df[column],
                    color=colour(oid, 2),
                    ls=style,
                    marker="o",
                    ms=3,
                    label=f"{labels[oid]}: {what}",
                )
    left.set_title(f"{labels[oid]}'s moves" if oid else "no outside power", fontsize=10)
    left.set_ylim(-0.05, 1.05)
    left.set_ylabel("level (0 to 1)")
    _rounds_axis(left, model)
    for k, p in enumerate(ids):
        public = colour(f"public_{p}", k + 3)
        for q, style in zip(ids, ("-", "--")):
            column = f"public_{p}_accepts_{q}_offer"
            if column in df:
                right.plot(
                    df["round"],
                    df[column],
                    color=public,
                    ls=style,
                    marker="o",
                    ms=3,
                    label=f"{tables.public_labels[k]}, {labels[q]}'s offer",
                )
    right.set_title("share of each public accepting each offer", fontsize=10)
    right.set_ylim(-0.05, 1.05)
    _rounds_axis(right, model)
    if not df.empty:
        left.legend(fontsize=7, loc="best")
        right.legend(fontsize=7, loc="best")
    return fig


def outcome_space_figure(model: AppModel) -> Figure:
    """The outcome space with the standing offers (and the agreed package, if any)."""
    from dipsim.analysis.presentation.outcome_space_plot import draw

    tables, st = model.tables, model.state
    offers = {pid: int(st.offers[k]) for k, pid in enumerate(tables.party_ids)}
    agreed = None
    if st.package >= 0:
        agreed = {st.package: (1, 0) if st.reason == protocol.TREATY else (0, 1)}
    fig = Figure(figsize=(8, 5.6), dpi=90, layout="constrained")
    ax = fig.subplots()
    draw(ax, tables, 0, agreed=agreed, offers=offers)
    ax.set_title(f"Outcome space after {model.steps} rounds: {tables.space.size} packages", fontsize=10)
    return fig


# ----------------------------------------------------------------------- the page

# Show each slider's value on its thumb at all times (Vuetify shows it only while dragged),
# so that a moved slider says what the next Reset will use; labels above the sliders, so
# that long labels leave the sliders their width.
SLIDER_VALUES_CSS = """
.v-slider__thumb-label-container { display: block !important; }
.v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-input__slider .v-input__slot > .v-label { flex: 1 0 100%; max-width: 100%; }
.v-input__slider .v-input__slot > .v-slider { margin-top: 40px; margin-left: 8px; margin-right: 8px; }
"""


def make_page(spec: Scenario = SPEC):
    """The SolaraViz page: controls and sliders in the sidebar, four cards."""
    try:
        import solara
        from mesa.visualization import SolaraViz
        from mesa.visualization.utils import update_counter
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
        raise ModuleNotFoundError(f"the app needs the 'app' extra: pip install -e '.[app]' ({exc})") from exc

    def figure(fig: Figure):
        solara.FigureMatplotlib(fig, format="png")

    def heading(text: str):
        solara.HTML(tag="h3", unsafe_innerHTML=html.escape(text), style="font-weight: 500")

    @solara.component
    def State(model):
        update_counter.get()
        solara.Style(SLIDER_VALUES_CSS)
        with solara.Column():
            heading(spec.title)
            solara.HTML(tag="div", unsafe_innerHTML=state_html(model), classes=["dipsim-state"])

    @solara.component
    def Offers(model):
        update_counter.get()
        with solara.Column():
            heading("Offers by round")
            figure(offers_figure(model))

    @solara.component
    def Actions(model):
        update_counter.get()
        with solara.Column():
            heading("Pressure, rhetoric and the publics")
            figure(actions_figure(model))

    @solara.component
    def OutcomeSpace(model):
        update_counter.get()
        with solara.Column():
            heading("Outcome space")
            figure(outcome_space_figure(model))

    AppModel.spec = spec
    first = AppModel()
    return SolaraViz(
        first,
        components=[State, Offers, OutcomeSpace, Actions],
        model_params=model_params(spec),
        name=f"dipsim: {spec.name}",
        play_interval=300,
    )


# ----------------------------------------------------------------------- serving it


def server_command(
    scenario: str | os.PathLike | None = None, host: str = "127.0.0.1", port: int = 8765
) -> tuple[list[str], dict[str, str]]:
    """The command that serves the app and its environment (scenario, offline settings)."""
    import importlib.util

    missing = [m for m in ("solara", "solara_assets", "altair") if importlib.util.find_spec(m) is None]
    if missing:
        raise ModuleNotFoundError(
            f"the app needs the 'app' extra ({', '.join(missing)} missing): pip install -e '.[app]'"
        )
    path = load_scenario_path(scenario)
    command = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(APP_FILE),
        "--host",
        host,
        "--port",
        str(port),
        "--no-open",
        "--production",
        "--no-check-version",
    ]
    env = {**os.environ, **OFFLINE_ENVIRONMENT, SCENARIO_VARIABLE: str(path)}
    return command, env


def load_scenario_path(scenario: str | os.PathLike | None) -> Path:
    """The scenario's absolute path, after checking that it loads (ScenarioError if not)."""
    path = scenario_path(scenario)
    load_scenario(path)
    return path


def serve(scenario: str | None = None, host: str = "127.0.0.1", port: int = 8765) -> int:
    """Serve the app for a scenario until interrupted; the server's exit code."""
    command, env = server_command(scenario, host, port)
    print(f"dipsim app: {scenario_path(scenario).name} at http://{host}:{port}/ (Ctrl-C stops it)", file=sys.stderr)
    process = subprocess.Popen(command, env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return 130


if __name__ == "__main__":  # run by `solara run analysis/app.py` (see serve)
    page = make_page(SPEC)
