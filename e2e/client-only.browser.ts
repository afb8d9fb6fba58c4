// The browser entry of e2e/client-only.spec.ts: meshkeeper's browser build, with Keeper on window,
// in a page that runs no peer of its own (its Keepers join with replica: false).
import { Keeper } from '../src/browser.js';

declare global {
  interface Window {
    MeshKeeper?: typeof Keeper;
  }
}

window.MeshKeeper = Keeper;
