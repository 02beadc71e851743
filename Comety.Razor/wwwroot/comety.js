/*!
 * Comety browser API: server events over an HTTP stream (Server-Sent Events) or long polling.
 * Licensed under the Apache License, Version 2.0. Works with jQuery 3.x and 4.x.
 *
 * Comety.create(jQuery, settings) returns the API that <comety-script> puts in a page variable
 * (`comety` by default). It speaks the Comety wire protocol (PROTOCOL.md) with one updates URL.
 */
(function (window) {
    'use strict';

    // The transports a page may ask for (PROTOCOL.md, "What the script does").
    var transports = ['auto', 'stream', 'poll'];

    // Whether this browser can read a response as it arrives: fetch, a readable body, a decoder for
    // its bytes, and a way to abort it.
    function canStream() {
        return typeof window.fetch === 'function' && typeof window.AbortController === 'function'
            && typeof window.TextDecoder === 'function' && typeof window.ReadableStream === 'function';
    }

    // Whether the tabs of this browser can share one connection: Web Locks to elect the tab that holds
    // it, BroadcastChannel to pass its events on (see share() below).
    function canShare() {
        var navigator = window.navigator;
        return !!(navigator && navigator.locks && typeof navigator.locks.request === 'function')
            && typeof window.BroadcastChannel === 'function' && typeof window.AbortController === 'function';
    }

    // Reads a text/event-stream as the HTML standard interprets one (9.2.6): lines end with CRLF, LF
    // or CR; a line that starts with ':' is a comment; 'field: value' lines (one space after the colon
    // dropped) set `event`, append to `data` (joined with LF), set `id` (unless it holds NUL) and
    // `retry` (digits only); a blank line dispatches the message, when it has data. push(text) takes
    // the text decoded so far, however the network cut it, and returns the messages it completed; a
    // line or message cut across two pieces waits for the rest.
    function createEventStreamParser() {
        var line = '';
        var skipNewline = false;
        var data = '';
        var type = '';
        var parser = { lastEventId: '', retry: null };

        function take(text, messages) {
            if (text === '') {
                if (data !== '') {
                    messages.push({ type: type || 'message', data: data.slice(0, -1), lastEventId: parser.lastEventId });
                }
                data = '';
                type = '';
                return;
            }
            if (text.charAt(0) === ':') {
                return;
            }
            var colon = text.indexOf(':');
            var field = colon < 0 ? text : text.substring(0, colon);
            var value = colon < 0 ? '' : text.substring(colon + 1);
            if (value.charAt(0) === ' ') {
                value = value.substring(1);
            }
            if (field === 'event') {
                type = value;
            } else if (field === 'data') {
                data += value + '\n';
            } else if (field === 'id') {
                if (value.indexOf('\u0000') < 0) {
                    parser.lastEventId = value;
                }
            } else if (field === 'retry') {
                if (/^[0-9]+$/.test(value)) {
                    parser.retry = parseInt(value, 10);
                }
            }
            // Any other field is ignored, as the standard says.
        }

        parser.push = function (text) {
            var messages = [];
            var start = 0;
            if (text.length === 0) {
                return messages;
            }
            // The piece before ended with CR: an LF that starts this one ends the same line.
            if (skipNewline && text.charCodeAt(0) === 10) {
                start = 1;
            }
            skipNewline = false;
            for (var i = start; i < text.length; i++) {
                var c = text.charCodeAt(i);
                if (c !== 10 && c !== 13) {
                    continue;
                }
                take(line + text.substring(start, i), messages);
                line = '';
                if (c === 13) {
                    if (i + 1 === text.length) {
                        skipNewline = true;
                    } else if (text.charCodeAt(i + 1) === 10) {
                        i++;
                    }
                }
                start = i + 1;
            }
            line += text.substring(start);
            return messages;
        };
        return parser;
    }

    function create($, settings) {
        if (!$ || typeof $.ajax !== 'function') {
            throw new Error('Comety needs jQuery: load it before comety.js, use include-jquery, or name the variable that holds it with jquery-name.');
        }

        settings = settings || {};
        var name = settings.name || 'comety';
        var antiforgery = settings.antiforgery || {};
        var api = {};

        // The last sequence number handed to the handler (or accounted for); sent as `confirm`.
        var confirm = typeof settings.confirm === 'number' ? settings.confirm : null;
        var lastResponseAt = null;
        var running = null;
        var generation = 0;
        var pending = null;
        var retryTimer = null;
        // What the pending retry does (for the same loop), so that `online` can do it early.
        var retry = null;
        var retryDelay = 0;
        // The stream being read, if any: { abort: function }.
        var streaming = null;
        // Set when `auto` found that streams do not get through (or that the server speaks only
        // version 1): the page long-polls for the rest of its life.
        var pollOnly = false;
        // Set once a stream of this page opened: from then on a stream that fails is retried, not
        // given up for polls (the network let one through; an outage is no reason to stop streaming).
        var streamWorked = false;
        // Set when a cut stream was resumed at once: if the next one fails too, the backoff takes over.
        var resumedAtOnce = false;

        function log(level, message, detail) {
            if (window.console && typeof window.console[level] === 'function') {
                window.console[level]('Comety: ' + message, detail === undefined ? '' : detail);
            }
        }

        // Set once this page has asked to reload itself: what happens after that is the next page's.
        var reloading = false;

        // The mark a page leaves in its tab before it reloads itself, one per updates URL.
        function reloadMarkKey(url) {
            return 'Comety.reloaded:' + url;
        }

        // The tab's sessionStorage, or null where the browser refuses it (merely reading it throws
        // in some privacy settings and sandboxed frames).
        function tabStorage() {
            try {
                return window.sessionStorage || null;
            } catch (e) {
                return null;
            }
        }

        // Reloads the page, at most once until a poll succeeds again. A page reloads itself because
        // the server no longer knows it (403, 409) or, by default, to show new events; the reloaded
        // page comes from the same server, so when it fails the same way, reloading again would only
        // repeat it as fast as the server answers, forever (a signed-out page reloaded 74 times in
        // 6 s). So the page leaves a mark in sessionStorage (which outlives a reload, and belongs to
        // the tab) before it reloads, and a page that finds the mark stops instead and says so: it
        // needs a person now. A poll that succeeds while the loop goes on removes the mark. Without
        // sessionStorage there is no way to tell a loop, so the page never reloads itself.
        function reloadOnce(loopParams, why, advice) {
            var key = reloadMarkKey(loopParams.url);
            var storage = tabStorage();
            var earlier = null;
            try {
                earlier = storage ? storage.getItem(key) : null;
                if (storage && earlier === null) {
                    storage.setItem(key, why);
                    if (storage.getItem(key) === why) {
                        reloading = true;
                        window.location.reload();
                        return;
                    }
                }
            } catch (e) {
                // Storage full or refused: no mark, so no reload.
            }
            api.stopUpdates();
            log('error', 'updates stopped: ' + why + (earlier !== null
                ? ', again after the page reloaded itself for it. It will not reload itself again; '
                : ', and without sessionStorage the page does not reload itself (it could not tell a reload loop). ') +
                advice);
        }

        // Removes the tab's reload mark: updates work again, so later trouble may reload the page once more.
        function clearReloadMark(loopParams) {
            if (running === null || reloading) {
                return;
            }
            var storage = tabStorage();
            try {
                if (storage) {
                    storage.removeItem(reloadMarkKey(loopParams.url));
                }
            } catch (e) {
                // Nothing to remove where storage is refused.
            }
        }

        // The `reason` member of a problem+json answer (PROTOCOL.md), or null.
        function problemReason(jqXHR) {
            var body = jqXHR.responseJSON;
            if (body === undefined && typeof jqXHR.responseText === 'string') {
                try {
                    body = JSON.parse(jqXHR.responseText);
                } catch (e) {
                    body = null;
                }
            }
            return body && typeof body.reason === 'string' ? body.reason : null;
        }

        api.defaults = {
            // The updates URL, served by a CometyController subclass.
            url: settings.url,
            // Seconds a poll may take before the browser gives up; the server answers within half of it.
            timeout: typeof settings.timeout === 'number' ? settings.timeout : 10,
            // Receives the events of a response; returns how many it consumed. 0 stops the loop.
            // By default the page reloads to show them (at most once until a poll succeeds again).
            handler: function (events, loopParams) {
                reloadOnce(loopParams || api.defaults, 'events arrived',
                    'set ' + name + '.defaults.handler to handle events without reloading, or reload the page.');
                return 0;
            },
            // Receives every failed request. By default a page the server no longer knows reloads
            // (at most once until a poll succeeds again); a page nobody is signed in for never does.
            errorHandler: function (jqXHR, textStatus, errorThrown, loopParams) {
                var status = jqXHR ? jqXHR.status : 0;
                if (status === 403 && problemReason(jqXHR) === 'no-user') {
                    log('info', 'updates stopped: nobody is signed in on this page (403 no-user), so it does not reload itself.');
                } else if (status === 403 || status === 409) {
                    reloadOnce(loopParams || api.defaults,
                        status === 409 ? 'the page fell too far behind (409)' : 'the server does not know this page\'s user (403 ' + (problemReason(jqXHR) || 'not-registered') + ')',
                        'reload the page to try again.');
                } else {
                    log('warn', 'updates failed (' + status + ' ' + textStatus + ')', errorThrown);
                }
            },
            // Milliseconds (not seconds, unlike timeout) before the first retry after a network or
            // server error; the delay doubles after each failure up to maxRetryDelay, also in milliseconds.
            retryDelay: 1000,
            maxRetryDelay: 30000,
            // 'auto' streams and falls back to long polling where streams do not get through;
            // 'stream' only streams; 'poll' only long-polls (PROTOCOL.md, "What the script does").
            transport: settings.transport || 'auto',
            // Milliseconds a new stream may take to deliver its first byte; a proxy that buffers whole
            // responses delivers none, and 'auto' then long-polls instead.
            streamOpenTimeout: 4000,
            // The opaque tag <comety-script share-as> renders for the page's user and updates URL: tabs
            // with the same URL and tag share one connection. Without it, each tab has its own.
            shareKey: typeof settings.shareKey === 'string' && settings.shareKey ? settings.shareKey : null,
            // false: this page keeps its own poll or stream even with a shareKey.
            shareTabs: settings.shareTabs !== false
        };

        // Seconds since the previous response (or since the timing snippet ran, for the first poll).
        function elapsedSeconds() {
            var since = lastResponseAt;
            if (since === null) {
                var timing = window.CometyTiming;
                if (!timing || typeof timing[name] !== 'number') {
                    return null;
                }
                since = timing[name];
            }
            return Math.max(0, (Date.now() - since) / 1000);
        }

        // The query of a poll, and of a stream (a version 1 server answers it as a poll).
        function queryOf(loopParams) {
            var query = { timeout: loopParams.timeout };
            if (confirm !== null) {
                query.confirm = confirm;
            }
            var elapsed = elapsedSeconds();
            if (elapsed !== null) {
                query.elapsed = elapsed.toFixed(3);
            }
            return query;
        }

        // The next request of the loop: a stream where the transport allows one, else a poll.
        function next(loopParams, run) {
            if (loopParams.transport === 'stream' || (loopParams.transport === 'auto' && !pollOnly && canStream())) {
                stream(loopParams, run);
            } else {
                poll(loopParams, run);
            }
        }

        function poll(loopParams, run) {
            pending = $.ajax({
                url: loopParams.url,
                type: 'GET',
                data: queryOf(loopParams),
                dataType: 'json',
                cache: false,
                timeout: loopParams.timeout * 1000
            });
            pending.done(function (response) {
                if (run !== generation) {
                    return;
                }
                pending = null;
                lastResponseAt = Date.now();
                retryDelay = 0;
                received(loopParams, run, response || {});
            }).fail(function (jqXHR, textStatus, errorThrown) {
                if (run !== generation) {
                    return;
                }
                pending = null;
                failed(loopParams, run, jqXHR, textStatus, errorThrown);
            });
        }

        // Hands events to the handler; returns how many it consumed (0 when it threw).
        function consume(loopParams, events) {
            var consumed;
            try {
                consumed = loopParams.handler(events, loopParams);
            } catch (e) {
                log('error', 'the handler failed; updates stop', e);
                consumed = 0;
            }
            return typeof consumed === 'number' && isFinite(consumed) ? Math.floor(consumed) : 0;
        }

        function received(loopParams, run, response) {
            var events = response.events;
            broadcast(confirm, typeof response.lastId === 'number' ? response.lastId : null, events || []);
            if (events && events.length) {
                var consumed = consume(loopParams, events);
                if (consumed >= events.length) {
                    confirm = response.lastId;
                } else if (consumed > 0) {
                    // Only what was consumed: the rest comes again with the next poll.
                    confirm = events[consumed - 1][2];
                }
                if (consumed <= 0) {
                    if (run === generation) {
                        api.stopUpdates();
                    }
                    return;
                }
            } else if (typeof response.lastId === 'number') {
                confirm = response.lastId;
            }
            if (run === generation) {
                next(loopParams, run);
            }
        }

        // `again` is what the retry does: the loop's next request by default, or a follower's catch-up.
        function failed(loopParams, run, jqXHR, textStatus, errorThrown, again) {
            try {
                loopParams.errorHandler(jqXHR, textStatus, errorThrown, loopParams);
            } catch (e) {
                log('error', 'the error handler failed', e);
            }
            if (run !== generation) {
                return;
            }
            var status = jqXHR ? jqXHR.status : 0;
            if (status >= 400 && status < 500 && status !== 429) {
                // The request or the page is wrong (400), or the server no longer knows the page
                // (403, 409): asking again would get the same answer.
                api.stopUpdates();
                return;
            }
            // The network or the server failed, or the user has as many polls waiting as the
            // server holds (429, other tabs): keep trying from the same position, more and more slowly.
            retryDelay = retryDelay ? Math.min(retryDelay * 2, loopParams.maxRetryDelay) : loopParams.retryDelay;
            retry = function () {
                retry = null;
                if (run === generation) {
                    (again || next)(loopParams, run);
                }
            };
            retryTimer = window.setTimeout(function () {
                retryTimer = null;
                if (retry !== null) {
                    retry();
                }
            }, retryDelay);
        }

        // The browser reports its network back: a retry waiting out its backoff goes now, since the
        // failure was most likely the network that just returned. The backoff itself stays as it was,
        // so that a network that comes and goes does not turn the retries into a storm.
        function retryNow() {
            if (retryTimer === null || retry === null) {
                return;
            }
            window.clearTimeout(retryTimer);
            retryTimer = null;
            retry();
        }

        // What the error handler gets for a stream's failure: the parts of a jqXHR that error
        // handlers read, so that one written for polls works unchanged.
        function failure(status, statusText, text, headers) {
            var json;
            if (text) {
                try {
                    json = JSON.parse(text);
                } catch (e) {
                    json = undefined;
                }
            }
            return {
                readyState: 4,
                status: status,
                statusText: statusText,
                responseText: text,
                responseJSON: json,
                getResponseHeader: function (header) {
                    return headers ? headers.get(header) : null;
                },
                getAllResponseHeaders: function () {
                    var all = '';
                    if (headers) {
                        headers.forEach(function (value, header) {
                            all += header + ': ' + value + '\r\n';
                        });
                    }
                    return all;
                }
            };
        }

        // Streams with fetch and a readable body rather than EventSource: fetch reads the version 1
        // status and problem+json body (its `reason`) of an answer refused before the stream starts,
        // so that a 403 or a 409 reaches the same errorHandler as a poll's, where EventSource only
        // raises a bare 'error' and reconnects by itself; fetch sends Accept and Last-Event-ID as the
        // script chooses (the position the handler reached, not merely the last id received), reads a
        // version 1 server's JSON answer, and aborts at once when the handler or the page stops.
        function stream(loopParams, run) {
            var controller = new window.AbortController();
            var current = {};
            var opened = false;
            var bytes = false;
            var openTimer = null;
            var silenceTimer = null;
            var silence = null;
            var headers = { Accept: 'text/event-stream' };
            if (confirm !== null) {
                headers['Last-Event-ID'] = String(confirm);
            }
            var url = loopParams.url + (String(loopParams.url).indexOf('?') >= 0 ? '&' : '?') + $.param(queryOf(loopParams));

            function live() {
                return run === generation && streaming === current;
            }

            // Ends this stream: its timers, and the response, which the server sees abandoned.
            function end() {
                if (streaming === current) {
                    streaming = null;
                }
                if (openTimer !== null) {
                    window.clearTimeout(openTimer);
                    openTimer = null;
                }
                if (silenceTimer !== null) {
                    window.clearTimeout(silenceTimer);
                    silenceTimer = null;
                }
                controller.abort();
            }

            // No byte came: in `auto`, before any stream of this page worked, the network (a proxy
            // that buffers, a firewall) does not let streams through, so the page long-polls from
            // now on, from the same position. Otherwise it is a failure like a poll's.
            function notOpened(textStatus, why) {
                end();
                if (loopParams.transport === 'auto' && !streamWorked) {
                    pollOnly = true;
                    log('info', 'streaming did not get through (' + why + '); long polling from now on.');
                    poll(loopParams, run);
                    return;
                }
                failed(loopParams, run, failure(0, textStatus, '', null), textStatus, why);
            }

            // The stream stopped without its end: resumed at once from the position, and with the
            // backoff when the one after that fails as well.
            function cut(why) {
                end();
                if (!opened) {
                    notOpened('error', why);
                } else if (!resumedAtOnce) {
                    resumedAtOnce = true;
                    next(loopParams, run);
                } else {
                    failed(loopParams, run, failure(0, 'error', '', null), 'error', why);
                }
            }

            // Bytes got through: the stream is alive (and a quiet one is watched for being lost).
            function arrived() {
                bytes = true;
                lastResponseAt = Date.now();
                if (openTimer !== null) {
                    window.clearTimeout(openTimer);
                    openTimer = null;
                }
                if (opened) {
                    resumedAtOnce = false;
                    watch();
                }
            }

            // Twice the server's keep-alive interval without a byte: the connection is gone even if
            // nothing said so (a sleeping laptop, a dropped route), so the page resumes.
            function watch() {
                if (silenceTimer !== null) {
                    window.clearTimeout(silenceTimer);
                }
                silenceTimer = silence === null ? null : window.setTimeout(function () {
                    silenceTimer = null;
                    if (live()) {
                        cut('no byte for ' + (silence / 1000) + ' s');
                    }
                }, silence);
            }

            // The handler got events and the loop goes on: updates work.
            function progressed() {
                resumedAtOnce = false;
                retryDelay = 0;
                clearReloadMark(loopParams);
            }

            // Hands events that arrived together to the handler; returns whether to read on.
            function handOver(events) {
                broadcast(confirm, events[events.length - 1][2], events);
                var consumed = consume(loopParams, events);
                if (consumed > 0) {
                    confirm = events[Math.min(consumed, events.length) - 1][2];
                }
                if (run !== generation) {
                    // The handler stopped or restarted updates itself.
                    return false;
                }
                if (consumed <= 0) {
                    api.stopUpdates();
                    return false;
                }
                progressed();
                if (consumed < events.length) {
                    // The rest comes again on a new stream from the last consumed event.
                    end();
                    next(loopParams, run);
                    return false;
                }
                return true;
            }

            function parsed(message) {
                try {
                    return JSON.parse(message.data);
                } catch (e) {
                    return undefined;
                }
            }

            // Acts on the messages of one read; returns whether to read on.
            function deliver(messages) {
                var events = [];
                for (var i = 0; i < messages.length; i++) {
                    var message = messages[i];
                    var data = parsed(message);
                    if (message.type === 'message') {
                        if (!Array.isArray(data) || data.length < 3 || typeof data[2] !== 'number') {
                            end();
                            failed(loopParams, run, failure(0, 'parsererror', '', null), 'parsererror', 'not an event: ' + message.data);
                            return false;
                        }
                        events.push(data);
                        continue;
                    }
                    // Events before a message of the stream's own go to the handler first.
                    if (events.length && !handOver(events)) {
                        return false;
                    }
                    events = [];
                    if (message.type === 'comety-stream') {
                        opened = true;
                        streamWorked = true;
                        retryDelay = 0;
                        silence = data && typeof data.keepAlive === 'number' && data.keepAlive > 0 ? 2000 * data.keepAlive : null;
                        watch();
                    } else if (message.type === 'comety-end') {
                        // Every event received was consumed (else the stream would have ended before).
                        if (data && typeof data.lastId === 'number') {
                            broadcast(confirm, data.lastId, []);
                            confirm = data.lastId;
                        }
                        progressed();
                        end();
                        next(loopParams, run);
                        return false;
                    } else if (message.type === 'comety-problem') {
                        // As the same status of a poll: the problem is the body a poll would get.
                        end();
                        var status = data && typeof data.status === 'number' ? data.status : 500;
                        failed(loopParams, run, failure(status, (data && data.title) || 'error', message.data, null), 'error', (data && data.title) || '');
                        return false;
                    }
                    // A message type of a later version: ignored.
                }
                return !events.length || handOver(events);
            }

            // An answer that is not a stream: a version 1 server's poll answer, or a refusal.
            function answered(response, text) {
                end();
                var type = (response.headers.get('Content-Type') || '').toLowerCase();
                if (!response.ok) {
                    failed(loopParams, run, failure(response.status, response.statusText, text, response.headers), 'error', response.statusText);
                    return;
                }
                var body;
                try {
                    body = JSON.parse(text);
                } catch (e) {
                    failed(loopParams, run, failure(response.status, response.statusText, text, response.headers), 'parsererror', e);
                    return;
                }
                if (loopParams.transport === 'auto' && type.indexOf('application/json') === 0) {
                    pollOnly = true;
                    log('info', 'the server answered a stream with a poll (protocol version 1); long polling from now on.');
                }
                lastResponseAt = Date.now();
                retryDelay = 0;
                received(loopParams, run, body || {});
                clearReloadMark(loopParams);
            }

            function read(response) {
                var reader = response.body.getReader();
                var decoder = new window.TextDecoder('utf-8');
                var parser = createEventStreamParser();
                function step() {
                    return reader.read().then(function (chunk) {
                        if (!live()) {
                            return undefined;
                        }
                        if (chunk.done) {
                            // A message without its blank line is incomplete, and dropped.
                            cut('the stream ended');
                            return undefined;
                        }
                        if (!chunk.value || !chunk.value.length) {
                            return step();
                        }
                        arrived();
                        return deliver(parser.push(decoder.decode(chunk.value, { stream: true }))) ? step() : undefined;
                    });
                }
                return step();
            }

            streaming = current;
            current.abort = end;
            openTimer = window.setTimeout(function () {
                openTimer = null;
                if (live() && !bytes) {
                    notOpened('timeout', 'no byte within ' + loopParams.streamOpenTimeout + ' ms');
                }
            }, loopParams.streamOpenTimeout);
            window.fetch(url, {
                method: 'GET',
                headers: headers,
                credentials: 'same-origin',
                cache: 'no-store',
                signal: controller.signal
            }).then(function (response) {
                if (!live()) {
                    return undefined;
                }
                var type = (response.headers.get('Content-Type') || '').toLowerCase();
                if (response.ok && type.indexOf('text/event-stream') === 0 && response.body) {
                    return read(response);
                }
                return response.text().then(function (text) {
                    if (live()) {
                        answered(response, text);
                    }
                });
            }).then(null, function (error) {
                // A network failure (or an abort of ours, which is no longer live).
                if (!live()) {
                    return;
                }
                var why = error && error.message ? error.message : String(error);
                if (bytes) {
                    cut(why);
                } else {
                    notOpened('error', why);
                }
            });
        }

        // One connection per browser, however many tabs. Browsers open at most six HTTP/1.1
        // connections per host, and each tab's waiting poll or stream holds one: with more tabs, pages
        // and sends of the site queue behind them. So the tabs that use the same updates URL as the same
        // user (the same shareKey, an opaque tag the server renders; never the user id) share one:
        //
        // - Web Locks elect the tab that holds it. Each tab asks for one lock named after the URL and the
        //   tag; the tab that gets it leads, and keeps it while its loop runs. The browser releases it when
        //   the tab closes, navigates away or is discarded, and a waiting tab gets it at once: that is the
        //   handover, with nothing of ours to time out. A SharedWorker could hold the connection instead,
        //   but Safari had none before 16, it is a script of its own (a URL, a lifetime to manage), and it
        //   cannot read a page's antiforgery token or run its handler; a tab that leads can.
        // - The leader runs the loop exactly as a tab alone does (its own position) and posts every batch
        //   it receives on a BroadcastChannel of the same name: { from, to, events }, where `from` is the
        //   leader's position before the batch (the batch holds every event of the user after it) and
        //   `to` the position after it (null when unknown).
        // - Every other tab keeps its own position, as alone. It hands its handler only the events after
        //   it, in order, once. When a batch starts after its position (the tab is new, was slow, or
        //   consumed fewer than it was offered), the events in between are not in the batch: the tab asks
        //   the server itself with one poll that does not wait (timeout=0, confirm=its position), and goes
        //   on with the batches after it. The tab catches up on its own rather than asking the leader, so
        //   that no message has to name a tab and a catch-up is an ordinary poll, with its 403 and 409.
        // - A handler that consumes nothing (or throws) stops its own tab's loop: the tab leaves the
        //   sharing (gives up or releases the lock, stops listening); the others go on, and if it led,
        //   the next tab takes the lock and starts the loop from its own position: nothing lost, nothing
        //   repeated, since positions are per tab.
        // - A tab the browser freezes (Page Lifecycle API: a background tab, to save power) runs none
        //   of its timers and network callbacks, and yet keeps its lock: the browser releases it only
        //   when the tab goes. Its loop stops, and without more the others would wait for its batches
        //   forever. So:
        //   - A tab told it is being frozen (the 'freeze' event) leaves the sharing at once, leading or
        //     not, and joins again on 'resume': the next tab gets the lock within moments and leads from
        //     its own position. A follower leaves too, so that the browser never grants the lock to a
        //     tab that cannot run the loop.
        //   - Not every stop says so: Safari and Firefox fire no 'freeze', and a tab paused in a
        //     debugger is as silent. So the leader answers a { type: 'probe' } on the channel at once
        //     with { type: 'alive' }: message events are not throttled in background tabs, so a live
        //     leader answers in milliseconds wherever it is, and a stopped one answers nothing. Every
        //     batch it posts counts as alive as well. A visible follower that heard nothing from the
        //     leader for half a second probes, and when another half second passes without an answer
        //     it takes the lock with `steal` and leads from its own position, as any new leader does
        //     (its first request, from its position, gets what it missed). A leader whose main thread
        //     is busy that long is stolen from too: harmless, since it then follows (below). Chromium
        //     still runs a frozen page's message events (its loop stops, its answers do not), so
        //     there it is the 'freeze' event above that hands over.
        //   - Only a visible follower probes on a timer; a hidden one probes once it becomes visible.
        //     A hidden tab is the one the browser throttles and freezes next (a takeover there would
        //     move the connection into a tab about to stop, and a throttled timer would take a minute
        //     to notice anyway), and nobody is looking at it: the events wait at the server until a
        //     tab shows, which fetches them from its own position and passes them on to the others.
        //   - The tab stolen from learns it when it runs again: its lock request rejects (AbortError).
        //     It abandons its poll or stream and joins again as a follower, from its own position, so
        //     that its handler still gets every event once and in order. A batch it posted before it
        //     learned does no harm: the new leader ignores batches, and the followers take only the
        //     events after their own positions.
        //   - Two visible followers that probe at once: their timers have random jitter, the one that
        //     gets the lock says 'alive' at once (which the other hears before its own deadline), and
        //     a follower that hears from a leader starts counting again. Should both steal anyway, the
        //     first learns it was stolen from and follows: one leads, and there is no loop.
        //
        // Where either API is missing (or share-as was not given), each tab polls or streams on its own.
        var sharing = null;

        // Milliseconds a visible follower goes without a word from the leader before it probes, and
        // then waits for the answer before it takes over; each timer adds up to `jitterTime` at random.
        // A leader that stopped is replaced within about a second (0.5 to 1.4 s after its last word),
        // for two short messages a second between tabs while nothing happens. A live leader answers in
        // milliseconds; only a main thread busy for half a second loses the lock, and then follows.
        var quietTime = 500;
        var answerTime = 500;
        var jitterTime = 200;

        // Where the browser cannot tell (none today has Web Locks without it), a tab counts as visible.
        function isVisible() {
            return window.document.visibilityState !== 'hidden';
        }

        function shareName(loopParams) {
            return 'Comety:' + loopParams.url + ' ' + loopParams.shareKey;
        }

        // Posts a message of the tabs' own (a probe, or a leader's 'alive') on the channel.
        function say(current, type) {
            try {
                current.channel.postMessage({ type: type });
            } catch (e) {
                log('warn', 'could not reach the other tabs', e);
            }
        }

        // Joins the tabs sharing this loop's URL and tag: follows until the lock comes (or until it
        // takes it from a leader that stopped answering), then leads.
        function share(loopParams, run) {
            var name = shareName(loopParams);
            var current = {
                channel: new window.BroadcastChannel(name),
                controller: new window.AbortController(),
                release: null,
                leading: false,
                // Which request of the tab holds the lock while it leads: 'wait' (the one every tab
                // makes as it joins) or 'steal'; and whether a steal was asked for and not yet granted.
                holding: null,
                stealing: false,
                queue: [],
                busy: false,
                request: null,
                // The messages heard from a leader (batches, 'alive'), when the last came, the probe
                // waiting for an answer ({ at, heard }), and the follower's timer.
                heard: 0,
                heardAt: Date.now(),
                probe: null,
                timer: null
            };
            function live() {
                return sharing === current && run === generation;
            }
            current.live = live;
            sharing = current;
            current.channel.onmessage = function (message) {
                var data = message.data;
                if (!live() || !data) {
                    return;
                }
                if (data.type === 'probe') {
                    if (current.leading) {
                        say(current, 'alive');
                    }
                    return;
                }
                if (current.leading) {
                    // A batch the previous leader posted as it went is of no use to the new one.
                    return;
                }
                // Only a leader posts anything but probes: it is there.
                current.heard++;
                current.heardAt = Date.now();
                if (!Array.isArray(data.events)) {
                    return;
                }
                current.queue.push(data);
                drain(loopParams, run, current);
            };

            // The callback of a lock request: the tab leads, from its own position.
            function lead(kind) {
                return function () {
                    if (!live()) {
                        return undefined;
                    }
                    if (kind === 'steal') {
                        current.stealing = false;
                    }
                    current.holding = kind;
                    if (current.leading) {
                        // The tab's own steal took the lock from its own request, granted meanwhile:
                        // the loop runs on, under the new request.
                        return new window.Promise(function (resolve) {
                            current.release = resolve;
                        });
                    }
                    current.leading = true;
                    current.queue = [];
                    current.probe = null;
                    if (current.timer !== null) {
                        window.clearTimeout(current.timer);
                        current.timer = null;
                    }
                    if (current.request !== null) {
                        var request = current.request;
                        current.request = null;
                        request.abort();
                    }
                    if (retryTimer !== null) {
                        window.clearTimeout(retryTimer);
                        retryTimer = null;
                        retry = null;
                    }
                    current.busy = false;
                    // The followers that probed hear at once that a tab leads, before they steal too.
                    say(current, 'alive');
                    // Held until the loop stops or the tab goes away (or another tab steals it).
                    return new window.Promise(function (resolve) {
                        current.release = resolve;
                        next(loopParams, run);
                    });
                };
            }

            function requested(kind, promise) {
                promise.then(null, function (error) {
                    if (!live()) {
                        return;
                    }
                    if (error && error.name === 'AbortError') {
                        // Aborted by the tab itself (a request it gave up as it stole), or the lock
                        // this request held was stolen: by another tab, while this one did not run,
                        // unless the tab's own steal is under way (it took the lock from itself).
                        if (current.leading && current.holding === kind && !current.stealing) {
                            log('info', 'another tab took over the shared updates while this one did not run (frozen?); this tab follows');
                            rejoin(loopParams);
                        }
                        return;
                    }
                    // The lock could not be had (a sandboxed frame, say): this tab goes on alone.
                    log('warn', 'tabs cannot share updates here; this tab receives its own', error);
                    unshare();
                    next(loopParams, run);
                });
            }

            // A visible follower's watch over the leader (see above); `now` probes at once, as a tab
            // that just became visible does.
            current.watch = function (now) {
                if (current.timer !== null) {
                    window.clearTimeout(current.timer);
                    current.timer = null;
                }
                if (!live() || current.leading || current.stealing || !isVisible()) {
                    // A hidden tab's probe is forgotten: it probes afresh when it shows again.
                    current.probe = null;
                    return;
                }
                var time = Date.now();
                var wait;
                if (current.probe !== null && current.heard === current.probe.heard) {
                    wait = current.probe.at + answerTime - time;
                    if (wait <= 0) {
                        steal();
                        return;
                    }
                } else {
                    current.probe = null;
                    wait = now ? 0 : current.heardAt + quietTime - time;
                    if (wait <= 0) {
                        current.probe = { at: time, heard: current.heard };
                        say(current, 'probe');
                        wait = answerTime;
                    }
                }
                current.timer = window.setTimeout(function () {
                    current.timer = null;
                    current.watch(false);
                }, wait + Math.random() * jitterTime);
            };

            // The leader answered no probe: this tab takes the lock from it and leads from its own
            // position. The request it waited with goes (a request cannot both wait on a signal and steal).
            function steal() {
                current.probe = null;
                current.stealing = true;
                log('info', 'the tab that held the shared updates does not answer (frozen?); this tab takes over');
                current.controller.abort();
                requested('steal', window.navigator.locks.request(name, { steal: true }, lead('steal')));
            }

            requested('wait', window.navigator.locks.request(name, { signal: current.controller.signal }, lead('wait')));
            current.watch(false);
            // A new follower catches up from its own position at once, rather than at the next batch.
            catchUp(loopParams, run);
        }

        // Leaves the sharing: the lock is given up (or released, and the next tab leads), the channel closed.
        function unshare() {
            var current = sharing;
            if (current === null) {
                return;
            }
            sharing = null;
            current.controller.abort();
            if (current.release !== null) {
                current.release();
            }
            if (current.timer !== null) {
                window.clearTimeout(current.timer);
                current.timer = null;
            }
            current.channel.close();
            if (current.request !== null) {
                var request = current.request;
                current.request = null;
                request.abort();
            }
        }

        // Leaves the sharing and joins it again as a follower, from the tab's position: the loop's
        // requests and retries are abandoned (a new run, so that what they answer late is ignored).
        function rejoin(loopParams) {
            halt();
            share(loopParams, generation);
        }

        // The leader passes on what it received: the events after `from`, up to `to`.
        function broadcast(from, to, events) {
            if (sharing === null || !sharing.leading) {
                return;
            }
            try {
                sharing.channel.postMessage({ from: from, to: to, events: events });
            } catch (e) {
                log('warn', 'could not pass events to the other tabs', e);
            }
        }

        // A follower's batches, in order; one that starts after the tab's position waits for a catch-up.
        function drain(loopParams, run, current) {
            while (current.live() && !current.leading && !current.busy && current.queue.length) {
                var batch = current.queue.shift();
                if (!batch.own && (typeof batch.from !== 'number' || confirm === null || batch.from > confirm)) {
                    // The events between the tab's position and the batch are not in it. The catch-up
                    // gets every event after the position up to now, so the batches before it are of no use.
                    current.queue = [];
                    catchUp(loopParams, run);
                    return;
                }
                if (!offer(loopParams, run, current, batch)) {
                    return;
                }
            }
        }

        // Hands a follower's handler the events of a batch after its position; returns whether to go on.
        function offer(loopParams, run, current, batch) {
            var events = [];
            for (var i = 0; i < batch.events.length; i++) {
                if (confirm === null || batch.events[i][2] > confirm) {
                    events.push(batch.events[i]);
                }
            }
            var to = typeof batch.to === 'number' ? batch.to : (batch.events.length ? batch.events[batch.events.length - 1][2] : null);
            if (events.length) {
                var consumed = consume(loopParams, events);
                if (!current.live()) {
                    // The handler stopped or restarted updates itself.
                    return false;
                }
                if (consumed <= 0) {
                    api.stopUpdates();
                    return false;
                }
                clearReloadMark(loopParams);
                if (consumed < events.length) {
                    // Only what was consumed: the rest comes again, from the server, at once.
                    confirm = events[consumed - 1][2];
                    current.queue = [];
                    catchUp(loopParams, run);
                    return false;
                }
                confirm = Math.max(events[events.length - 1][2], to === null ? 0 : to);
            } else if (to !== null && (confirm === null || to > confirm)) {
                confirm = to;
            }
            return true;
        }

        // A follower's own look at the server from its position: a poll that does not wait. Its answer
        // is the first batch; those that came meanwhile wait behind it.
        function catchUp(loopParams, run) {
            var current = sharing;
            if (current === null || current.leading || run !== generation) {
                return;
            }
            current.busy = true;
            var query = queryOf(loopParams);
            query.timeout = 0;
            var from = confirm;
            var request = $.ajax({
                url: loopParams.url,
                type: 'GET',
                data: query,
                dataType: 'json',
                cache: false,
                timeout: loopParams.timeout * 1000
            });
            current.request = request;
            request.done(function (response) {
                if (!current.live() || current.leading || current.request !== request) {
                    return;
                }
                current.request = null;
                current.busy = false;
                lastResponseAt = Date.now();
                retryDelay = 0;
                response = response || {};
                var events = response.events || [];
                if (confirm === from) {
                    // The server's answer from the tab's own position: nothing is missing before it.
                    current.queue.unshift({ own: true, from: from, to: typeof response.lastId === 'number' ? response.lastId : null, events: events });
                }
                drain(loopParams, run, current);
            }).fail(function (jqXHR, textStatus, errorThrown) {
                if (!current.live() || current.leading || current.request !== request) {
                    return;
                }
                current.request = null;
                failed(loopParams, run, jqXHR, textStatus, errorThrown, catchUp);
            });
        }

        // Starts the poll loop with the defaults, overridden by `overrides` for this loop only.
        api.startUpdates = function (overrides) {
            api.stopUpdates();
            var loopParams = $.extend({}, api.defaults, overrides || {});
            if (!loopParams.url) {
                throw new Error('Comety: no updates URL (defaults.url).');
            }
            if (transports.indexOf(loopParams.transport) < 0) {
                throw new Error('Comety: transport is \'' + loopParams.transport + '\', but it must be \'auto\', \'stream\' or \'poll\'.');
            }
            if (loopParams.transport === 'stream' && !canStream()) {
                throw new Error('Comety: transport \'stream\' needs fetch with a readable body, which this browser lacks; use \'auto\' to long-poll here.');
            }
            running = loopParams;
            retryDelay = 0;
            resumedAtOnce = false;
            if (loopParams.shareTabs !== false && loopParams.shareKey && canShare()) {
                share(loopParams, generation);
            } else {
                next(loopParams, generation);
            }
            return loopParams;
        };

        // Stops the loop; a poll in flight or an open stream is abandoned (the server keeps its events).
        api.stopUpdates = function () {
            halt();
            running = null;
        };

        // Stops what the loop does (its requests, its retry, its part in the sharing), but not
        // `running`: stopUpdates, and a tab that leaves the sharing for a while (frozen, stolen from).
        function halt() {
            generation++;
            retry = null;
            unshare();
            if (retryTimer !== null) {
                window.clearTimeout(retryTimer);
                retryTimer = null;
            }
            if (streaming !== null) {
                var open = streaming;
                streaming = null;
                open.abort();
            }
            if (pending !== null) {
                var request = pending;
                pending = null;
                request.abort();
            }
        }

        api.isRunning = function () {
            return running !== null;
        };

        function antiforgeryToken() {
            if (antiforgery.token) {
                return antiforgery.token;
            }
            var field = $('input[name="__RequestVerificationToken"]').first();
            return field.length ? field.val() : null;
        }

        function post(body) {
            var headers = {};
            var token = antiforgeryToken();
            if (token) {
                headers[antiforgery.header || 'RequestVerificationToken'] = token;
            }
            return $.ajax({
                // The running loop's URL: a loop started on another URL than the defaults' sends there too.
                url: running !== null ? running.url : api.defaults.url,
                type: 'POST',
                contentType: 'application/json',
                data: JSON.stringify(body),
                headers: headers
            });
        }

        // Sends data to the server's message handlers, matched against `channel` when given.
        api.send = function (data, channel) {
            var body = { type: 'message', data: data === undefined ? null : data };
            if (channel !== undefined && channel !== null) {
                body.channel = channel;
            }
            return post(body);
        };

        api.subscribe = function (channel) {
            return post({ type: 'subscribe', channel: channel });
        };

        api.unsubscribe = function (channel) {
            return post({ type: 'unsubscribe', channel: channel });
        };

        // Stop when the page goes away, so that the server sees the poll abandoned at once. Not on
        // 'beforeunload': it also fires when the person is asked whether to leave and stays.
        var resumeOnShow = null;
        $(window).on('pagehide', function () {
            resumeOnShow = running;
            api.stopUpdates();
        });
        $(window).on('online', retryNow);
        // A tab being frozen leaves the sharing while it can (see share()), and joins it again from
        // its position when it runs again. A tab alone keeps its request: the server answers it, and
        // the tab reads the answer when it resumes.
        var rejoinOnResume = null;
        $(window.document).on('freeze', function () {
            if (sharing === null || running === null) {
                return;
            }
            rejoinOnResume = running;
            halt();
        });
        $(window.document).on('resume', function () {
            var loopParams = rejoinOnResume;
            rejoinOnResume = null;
            if (loopParams !== null && running === loopParams && sharing === null) {
                share(loopParams, generation);
            }
        });
        // A follower that shows probes the leader at once; one that hides stops watching (see share()).
        $(window.document).on('visibilitychange', function () {
            if (sharing !== null) {
                sharing.watch(isVisible());
            }
        });
        // A page restored from the back/forward cache goes on where it stopped (or, if the server
        // forgot it meanwhile, gets a 403 and reloads).
        $(window).on('pageshow', function (event) {
            var loopParams = resumeOnShow;
            resumeOnShow = null;
            if (event.originalEvent && event.originalEvent.persisted && loopParams !== null && running === null) {
                api.startUpdates(loopParams);
            }
        });
        // A poll that succeeded while the loop goes on (the handler neither reloaded the page nor
        // stopped the loop) shows the page works: its reload mark goes, so that later trouble may
        // reload it once again. jQuery's global ajaxSuccess comes after the poll's own callbacks, so
        // the handler has decided by then. (With jQuery's global events turned off the mark stays,
        // and later trouble in this tab stops the page instead of reloading it: never a loop.) A stream
        // is read with fetch, which raises no ajaxSuccess: it removes the mark itself once its handler
        // consumed events or it ended well (not when it merely opened: the events that made the page
        // reload itself may be on their way, and the handler decides about them first).
        $(window.document).on('ajaxSuccess', function (event, jqXHR, ajaxSettings) {
            if (running === null || reloading || !ajaxSettings || ajaxSettings.type !== 'GET'
                || String(ajaxSettings.url).split('?')[0] !== String(running.url).split('?')[0]) {
                return;
            }
            clearReloadMark(running);
        });
        if (settings.autoStart) {
            $(function () {
                api.startUpdates();
            });
        }

        return api;
    }

    window.Comety = { create: create, protocolVersion: 2 };
})(window);
