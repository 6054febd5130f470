// Training lab: the network's own loss landscape — the training loss on a plane through
// the weights, L(θ + α·d₁ + β·d₂), as contours of log₁₀ L, with the weight trajectory
// projected onto the plane, the start and the current point marked. `others` are the
// paths of other runs on the same plane (compare mode with a plane through the start).
// `racers` instead: a race on one network — the plane through the shared start, every
// run's path in its own colour and dash, each run's end marked, the start once.
import { Plot, colour, fmt, layout, runStyle, theme } from "../plot.js";
import { t } from "../i18n.js";

const log10 = (v) => (v === null || !(v > 0) ? null : Math.log10(v));

export function create(el, { subtitle } = {}) {
  const plot = new Plot(el);
  let runs = 0;
  let lastFirst = null;

  function update({ landscape, first, others = [], racers = null }) {
    if (!landscape) return;
    const L = landscape;
    const traces = [
      {
        type: "contour",
        x: L.alphas,
        y: L.betas,
        z: L.loss.map((row) => row.map(log10)),
        ncontours: 24,
        colorscale: "Viridis",
        reversescale: true,
        contours: { coloring: "heatmap", showlines: true },
        line: { width: 0.5, color: "rgba(0,0,0,0.25)" },
        colorbar: { title: { text: "log₁₀ L" }, len: 0.8 },
        hovertemplate: `α %{x:.3f}, β %{y:.3f}: log₁₀ L = %{z:.3f}<extra></extra>`,
        name: t("landscape.loss"),
        showlegend: false,
      },
    ];
    const path = (run, i, dash) => ({
      x: run.path.map((p) => p[0]),
      y: run.path.map((p) => p[1]),
      mode: "lines+markers",
      name: run.name,
      line: { color: colour(i), width: 2, dash },
      marker: { size: 3, color: colour(i) },
      customdata: run.steps,
      hovertemplate: `${t("step")} %{customdata}: (%{x:.3f}, %{y:.3f})<extra>${run.name}</extra>`,
    });
    if (racers) {
      racers.forEach((run, i) => {
        const st = runStyle(i);
        const points = run.path.filter((p) => p[0] !== null && p[1] !== null);
        if (!points.length) return;
        traces.push({
          ...path(run, i, st.dash),
          line: { color: st.colour, width: theme.width, dash: st.dash },
          marker: { size: 3, color: st.colour },
        });
        const end = points[points.length - 1];
        traces.push({
          x: [end[0]],
          y: [end[1]],
          mode: "markers",
          name: `${run.name} · ${t("landscape.end")}`,
          showlegend: false,
          marker: { size: 12, symbol: "x", color: st.colour, line: { width: 1, color: "#222" } },
          hovertemplate: `${t("landscape.end")}<extra>${run.name}</extra>`,
        });
      });
    } else {
      const own = { path: L.path, steps: L.path_steps, name: t("landscape.path") };
      traces.push(path(own, 3, "solid"));
      others.forEach((o, k) => {
        if (o?.path?.length) traces.push(path(o, 4 + k, "dash"));
      });
    }
    // one legend entry for the ends (each drawn in its run's colour)
    if (racers)
      traces.push({
        x: [null],
        y: [null],
        mode: "markers",
        name: t("landscape.end"),
        marker: { size: 12, symbol: "x", color: "#222" },
      });
    // the race's plane goes through the shared start: every path begins at its centre
    const start = racers ? (racers[0]?.path[0] ?? [0, 0]) : L.path[0];
    traces.push({
      x: [start[0]],
      y: [start[1]],
      mode: "markers",
      name: t("landscape.start"),
      marker: { size: 10, symbol: "circle-open", color: "#222", line: { width: 2 } },
      hovertemplate: `${t("landscape.start")}<extra></extra>`,
    });
    if (!racers) {
      const now = L.path[L.path.length - 1];
      traces.push({
        x: [now[0]],
        y: [now[1]],
        mode: "markers",
        name: t("landscape.now"),
        marker: { size: 14, symbol: "star", color: colour(3), line: { width: 1, color: "#222" } },
        hovertemplate: `${t("landscape.now")} (${t("step")} ${L.step})<extra></extra>`,
      });
    }
    if (subtitle && racers) {
      subtitle.textContent = [
        `L(${t("landscape.start")}) = ${fmt(L.center_loss, 4)}`,
        t("race.plane"),
      ].join(" · ");
    } else if (subtitle) {
      // the loss at the plane's centre: the current weights', or the start's
      const at = L.center === "start" ? `L(${t("landscape.start")})` : "L";
      const parts = [`${t("step")} ${L.step}`, `${at} = ${fmt(L.center_loss, 4)}`];
      if (L.directions === "pca" && L.explained_variance) {
        const [a, b] = L.explained_variance.map((v) => fmt(100 * v, 3));
        parts.push(t("landscape.pca_sub", { a, b }));
      } else parts.push(t(`landscape.sub.${L.center}`));
      subtitle.textContent = parts.join(" · ");
    }
    // The user's zoom survives the refreshes of a run; a new run resets it.
    if (first !== lastFirst) {
      runs += 1;
      lastFirst = first;
    }
    const span = L.alphas[L.alphas.length - 1];
    plot.react(
      traces,
      layout({
        uirevision: plot.uirevision(runs),
        xaxis: { range: [-span, span], title: { text: "α (d₁)" }, zeroline: false },
        yaxis: { range: [-span, span], title: { text: "β (d₂)" }, zeroline: false },
        legend: { orientation: "h", y: -0.2 },
      }),
    );
  }

  return { plot, update };
}
