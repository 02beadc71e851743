/*!
 * Comety browser API as an ES module. Licensed under the Apache License, Version 2.0.
 *
 * The code is comety.js's: importing it runs the classic script, which defines window.Comety, and
 * this module hands on what it defined. jQuery is still the page's: pass it to create().
 *
 *   import { create } from '/_content/Comety.Razor/comety.mjs';
 *   const comety = create(jQuery, { url: '/chat/updates' });
 */
import './comety.js';

const Comety = window.Comety;

export const create = Comety.create;
export const protocolVersion = Comety.protocolVersion;
export default Comety;
