// Training lab: P(y = 1) over the data's domain, with the training (filled) and test
// (hollow) points coloured by label.
import { Plot, colour, fmt, layout, theme } from "../plot.js";
import { t } from "../i18n.js";

export function create(el, { subtitle } = {}) {
  const plot = new Plot(el);

  // The user's zoom survives the steps of a run; a new dataset (a new run) resets it.
  let runs = 0;
  let lastPoints = null;

  function update({ latest, points }) {
    if (!latest || !points) return;
    const [[x0, x1], [y0, y1]] = points.domain;
    const traces = [];
    if (latest.boundary) {
      const n = latest.boundary.length;
      const axis = (a, b) => Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
      traces.push({
        type: "heatmap",
        x: axis(x0, x1),
        y: axis(y0, y1),
        z: latest.boundary,
        zmin: 0,
        zmax: 1,
        zsmooth: "best",
        opacity: 0.75,
        colorbar: { title: { text: "P(y = 1)" }, len: 0.8 },
        colorscale: [
          [0, theme.cvd ? "#E69F00" : "#ff7f0e"],
          [0.5, "#ffffff"],
          [1, theme.cvd ? "#0072B2" : "#1f77b4"],
        ],
        hovertemplate: "(%{x:.2f}, %{y:.2f}) P = %{z:.2f}<extra></extra>",
      });
    }
    const marker = (labels, hollow) => ({
      size: 7,
      color: labels.map((y) => (y > 0.5 ? colour(0) : colour(1))),
      symbol: hollow ? "circle-open" : "circle",
      line: { width: hollow ? 2 : 1, color: "#222" },
    });
    // The points are coloured by class; their legend entries are grey (filled: training,
    // hollow: test), not the colour of whichever point happens to come first.
    const key = (name, hollow) => ({
      x: [null],
      y: [null],
      mode: "markers",
      name,
      hoverinfo: "skip",
      marker: {
        size: 7,
        color: "#888",
        symbol: hollow ? "circle-open" : "circle",
        line: { width: hollow ? 2 : 1, color: "#222" },
      },
    });
    traces.push(
      {
        x: points.X_train.map((p) => p[0]),
        y: points.X_train.map((p) => p[1]),
        mode: "markers",
        name: t("train_set"),
        showlegend: false,
        marker: marker(points.y_train, false),
      },
      key(t("train_set"), false),
    );
    if (points.X_test.length)
      traces.push(
        {
          x: points.X_test.map((p) => p[0]),
          y: points.X_test.map((p) => p[1]),
          mode: "markers",
          name: t("test_set"),
          showlegend: false,
          marker: marker(points.y_test, true),
        },
        key(t("test_set"), true),
      );
    if (subtitle)
      subtitle.textContent = `${t("step")} ${latest.step} · ${t("accuracy")} ${fmt(100 * latest.accuracy, 3)}% · ${points.n_params} ${t("params")}`;
    if (points !== lastPoints) {
      runs += 1;
      lastPoints = points;
    }
    plot.react(
      traces,
      layout({
        uirevision: plot.uirevision(runs),
        xaxis: { range: [x0, x1], title: { text: "x₁" } },
        yaxis: { range: [y0, y1], title: { text: "x₂" } },
      }),
    );
  }

  return { plot, update };
}
