// The dashboard's single-file components, as the tests import them (vitest compiles them with
// @vitejs/plugin-vue; frontend/tsconfig.json typechecks them with vue-tsc).
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<any, any, any>;
  export default component;
}
