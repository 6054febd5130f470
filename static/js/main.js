// First page: the lecture's layers experiment with the default configuration.
const status = document.getElementById("status");

async function main() {
  status.textContent = "computing…";
  const response = await fetch("/api/layers", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({}),
  });
  const result = await response.json();
  if (!response.ok) {
    status.textContent = result.error || "error";
    return;
  }
  status.textContent = `${result.elapsed_ms.toFixed(0)} ms`;
  const layers = result.layers;
  const x = layers.map((l) => l.index);
  Plotly.newPlot("std-chart", [
    { x, y: layers.map((l) => l.activation.std), name: "activation std", mode: "lines+markers" },
    { x, y: layers.map((l) => l.activation.mean), name: "activation mean", mode: "lines+markers" },
  ], { title: { text: "tanh, N(0, 0.01²), 10 × 500: activations per layer" },
       xaxis: { title: { text: "layer" } } }, { responsive: true });
  const traces = layers.map((l, i) => {
    const e = l.activation.edges;
    return {
      type: "bar", x: e.slice(0, -1).map((v, j) => (v + e[j + 1]) / 2), y: l.activation.counts,
      xaxis: `x${i + 1}`, yaxis: `y${i + 1}`, name: `layer ${l.index}`, showlegend: false,
    };
  });
  Plotly.newPlot("histograms", traces, {
    grid: { rows: 1, columns: layers.length, pattern: "independent" },
    title: { text: "activation histograms, one per layer (fixed bins on [−1, 1])" },
    bargap: 0,
  }, { responsive: true });
  document.getElementById("summary").textContent =
    `Layer 1 std ${layers[0].activation.std.toFixed(4)}, layer ${layers.length} std ` +
    `${layers[layers.length - 1].activation.std.toExponential(2)}.`;
}

main().catch((err) => { status.textContent = String(err); });
