// ApexCharts, tree-shaken to the chart types and features the dashboard draws (the full build is
// ~170 KB gzip), loaded once. main.ts starts loading it while the session opens, so the first chart
// does not wait for it after its data arrives.
import type { Component } from 'vue';

let lib: Promise<Component> | undefined;

export function loadChartLib(): Promise<Component> {
  lib ??= Promise.all([
    import('vue3-apexcharts/core'),
    import('apexcharts/line'),
    import('apexcharts/area'),
    import('apexcharts/bar'),
    import('apexcharts/features/legend'),
    import('apexcharts/features/annotations'),
  ]).then(([m]) => m.default as Component);
  lib.catch(() => (lib = undefined));
  return lib;
}
