// The build goes into the Python package, which serves it at /studio/ (server/studio.py).
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  base: "./",
  build: {
    outDir: "../src/trainyard/server/studio_static",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1000,
  },
  server: {
    // `npm run dev` against a server started with `trainyard server --port 8080`
    proxy: { "/api": "http://127.0.0.1:8080" },
  },
});
