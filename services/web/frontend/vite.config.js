// The screens' build (docs/adr/0024-web-front-end.md): one page, each screen a chunk of its
// own loaded when first opened, so the first page load carries only the shell and the home
// page. React's API is served by Preact (preact/compat): the same components and libraries
// (the JSON-Schema form, i18n, the router) at a fraction of the bytes.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const compat = {
  react: "preact/compat",
  "react-dom/test-utils": "preact/test-utils",
  "react-dom/client": "preact/compat/client",
  "react-dom": "preact/compat",
  "react/jsx-runtime": "preact/jsx-runtime",
  "react/jsx-dev-runtime": "preact/jsx-dev-runtime",
};

export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: Object.entries(compat).map(([find, replacement]) => ({
      find: new RegExp(`^${find}$`),
      replacement,
    })),
  },
  base: "/",
  build: {
    outDir: "../dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    // the form library (rjsf and its validator) is big; it loads with the forms only
    chunkSizeWarningLimit: 600,
  },
});
