/**
 * What the recipes use of a Keeper: the public data calls and session state of API.md, nothing
 * else. A structural type, so a test can hand a recipe a Keeper wrapped to inject faults (an
 * unknown outcome on create, say) without reaching into the client.
 */

import type { Keeper } from '../index.js';

export type RecipeKeeper = Pick<
  Keeper,
  'create' | 'delete' | 'exists' | 'getData' | 'setData' | 'getChildren' | 'multi' | 'removeWatches' | 'on' | 'state' | 'sessionId'
>;
