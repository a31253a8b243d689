/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}
// ApexCharts 5's feature modules register themselves on import and ship no types.
declare module 'apexcharts/features/legend';
declare module 'apexcharts/features/annotations';
