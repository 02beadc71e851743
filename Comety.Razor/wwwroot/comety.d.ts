/*!
 * TypeScript declarations of the Comety browser API (comety.js and comety.mjs).
 * Licensed under the Apache License, Version 2.0.
 *
 * A page that loads comety.js (as <comety-script> renders it) gets the global `Comety`: include this
 * file in the compilation (list it in tsconfig.json, or /// <reference path="…/comety.d.ts" />). A
 * module imports from '/_content/Comety.Razor/comety.mjs', which tsconfig.json maps to this file:
 * "paths": { "/_content/Comety.Razor/comety.mjs": ["…/comety.d.ts"] }.
 */

declare global {
    namespace Comety {
        /** The named arguments of an event; `event` is its type. */
        interface EventArgs {
            event?: string;
            [name: string]: unknown;
        }

        /** One event as the handler receives it: who sent it, its arguments, its sequence number. */
        type Event = [sender: string, args: EventArgs, seq: number];

        /** The transports a page may ask for: stream and fall back to long polling, only stream, only long-poll. */
        type Transport = 'auto' | 'stream' | 'poll';

        /** The parts of jQuery that comety.js uses; any jQuery 3.x or 4.x fits. */
        interface JQueryLike {
            (selector: any): any;
            ajax(settings: object): any;
            extend(target: object, ...sources: object[]): any;
            param(value: object): string;
        }

        /** What a send, subscribe or unsubscribe returns: jQuery's jqXHR, a promise of the server's answer. */
        interface Request extends PromiseLike<unknown> {
            readonly readyState: number;
            readonly status: number;
            done(callback: (data: unknown, textStatus: string, request: Request) => void): this;
            fail(callback: (request: Request, textStatus: string, errorThrown: string) => void): this;
            always(callback: (...args: unknown[]) => void): this;
            abort(statusText?: string): void;
        }

        /** What the error handler gets: a poll's jqXHR, or an object with the same members for a stream's failure. */
        interface FailedRequest {
            readonly readyState: number;
            /** The HTTP status, or 0 when the network failed. */
            readonly status: number;
            readonly statusText: string;
            readonly responseText?: string;
            /** The parsed body of a JSON answer (a problem+json refusal names its `reason`). */
            readonly responseJSON?: any;
            getResponseHeader(name: string): string | null;
            getAllResponseHeaders(): string;
        }

        /** The settings of a loop: the API's `defaults`, overridden for one loop by what startUpdates gets. */
        interface LoopParams {
            /** The updates URL, served by a CometyController subclass. */
            url: string;
            /** Seconds a poll may take; the server answers within half of it. */
            timeout: number;
            /** Receives the events that arrived together; returns how many it consumed (0 stops the loop). */
            handler(events: Event[], loopParams: LoopParams): number;
            /** Receives every failed request. */
            errorHandler(jqXHR: FailedRequest, textStatus: string, errorThrown: unknown, loopParams: LoopParams): void;
            /** Milliseconds before the first retry after a network or server error (doubles after each failure). */
            retryDelay: number;
            /** Milliseconds the retry delay grows to at most. */
            maxRetryDelay: number;
            transport: Transport;
            /** Milliseconds a new stream may take to deliver its first byte. */
            streamOpenTimeout: number;
            /** The opaque tag (share-as) the tabs that share one connection are keyed by; null: this tab has its own. */
            shareKey: string | null;
            /** false: this tab keeps a connection of its own even with a shareKey. */
            shareTabs: boolean;
        }

        /** The browser API that create() returns and <comety-script> puts in `comety` (or its api-name). */
        interface Api {
            /** Settings of every loop; change them before startUpdates. */
            defaults: LoopParams;
            /** Starts the loop with the defaults, overridden by `overrides` for this loop; returns the loop's settings. */
            startUpdates(overrides?: Partial<LoopParams>): LoopParams;
            /** Stops the loop; the server keeps the events not yet received. */
            stopUpdates(): void;
            isRunning(): boolean;
            /** Hands data to the server's message handlers, matched against `channel` when given. */
            send(data?: unknown, channel?: string | null): Request;
            subscribe(channel: string): Request;
            unsubscribe(channel: string): Request;
        }

        /** What create() takes; <comety-script> renders them from its attributes. */
        interface Settings {
            /** The name of the page variable, used in messages and for the timing snippet's mark. */
            name?: string;
            url?: string;
            timeout?: number;
            /** Whether the loop starts once the document is ready. */
            autoStart?: boolean;
            transport?: Transport;
            /** The position the first request resumes from (the last sequence number the page shows). */
            confirm?: number;
            /** The opaque tag <comety-script share-as> renders: tabs with the same tag and URL share one connection. */
            shareKey?: string;
            /** false (share-tabs="false"): the page's tabs do not share. */
            shareTabs?: boolean;
            /** The antiforgery header and token that sends carry. */
            antiforgery?: { header?: string; token?: string };
        }

        /** Creates the API on jQuery (`$`) with the page's settings; throws without jQuery. */
        function create($: JQueryLike | undefined, settings?: Settings): Api;

        /** The version of the Comety wire protocol this script speaks. */
        const protocolVersion: number;
    }

    interface Window {
        Comety: typeof Comety;
    }
}

/** Creates the API on jQuery (`$`) with the page's settings; throws without jQuery. */
export declare const create: typeof Comety.create;

/** The version of the Comety wire protocol this script speaks. */
export declare const protocolVersion: typeof Comety.protocolVersion;

/** The module's default export: the same object as the global `Comety`. */
declare const comety: typeof Comety;
export default comety;
