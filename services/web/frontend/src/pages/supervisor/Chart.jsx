// A chart.js chart (this chunk only: the supervisor board). The canvas is an image whose
// name says what it shows; the numbers themselves are in the table next to it
// (aria-describedby), so the chart is never the only way to read them.
import { useEffect, useRef } from "react";
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  Tooltip,
} from "chart.js";

Chart.register(
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  DoughnutController,
  Legend,
  LinearScale,
  Tooltip,
);

// distinguishable colours, each at least 3:1 against white (WCAG 1.4.11, graphics)
export const PALETTE = ["#0b5cad", "#a61b29", "#116329", "#7a4a00", "#6d28d9", "#0f766e", "#9d174d"];

export default function ChartCanvas({ type, labels, datasets, label, describedBy, stacked }) {
  const canvas = useRef(null);
  const chart = useRef(null);
  useEffect(() => {
    const options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: type === "doughnut" || datasets.length > 1 } },
    };
    if (type === "bar") {
      options.scales = {
        x: { stacked: Boolean(stacked) },
        y: { beginAtZero: true, stacked: Boolean(stacked), ticks: { precision: 0 } },
      };
    }
    const data = {
      labels,
      datasets: datasets.map((set, index) => ({
        backgroundColor:
          type === "doughnut" ? labels.map((_, i) => PALETTE[i % PALETTE.length]) : PALETTE[index % PALETTE.length],
        ...set,
      })),
    };
    if (chart.current) {
      chart.current.data = data;
      chart.current.options = options;
      chart.current.update();
    } else {
      chart.current = new Chart(canvas.current, { type, data, options });
    }
  }, [type, labels, datasets, stacked]);
  useEffect(
    () => () => {
      chart.current?.destroy();
      chart.current = null;
    },
    [],
  );
  return (
    <div className="chart-box">
      <canvas ref={canvas} role="img" aria-label={label} aria-describedby={describedBy}>
        {label}
      </canvas>
    </div>
  );
}
