// A module page that imports comety.mjs, written in TypeScript against comety.d.ts.
import CometyModule, { create, protocolVersion } from '/_content/Comety.Razor/comety.mjs';

declare const jQuery: Comety.JQueryLike;

const comety: Comety.Api = create(jQuery, { url: '/chat/updates' });
comety.defaults.handler = (events) => events.length;
comety.startUpdates();
const version: number = protocolVersion;
const same: typeof create = CometyModule.create;
console.log(version, same);

// @ts-expect-error: the module exports no such member
import { start } from '/_content/Comety.Razor/comety.mjs';
console.log(start);
// @ts-expect-error: the handler gets events, not a string
comety.defaults.handler = (events: string) => events.length;
