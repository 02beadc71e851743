/*!
 * Comety browser API: server events over HTTP long polling.
 * Licensed under the Apache License, Version 2.0. Works with jQuery 3.x and 4.x.
 *
 * Comety.create(jQuery, settings) returns the API that <comety-script> puts in a page variable
 * (`comety` by default). It speaks the Comety wire protocol (PROTOCOL.md) with one updates URL.
 */
(function (window) {
    'use strict';

    function create($, settings) {
        if (!$ || typeof $.ajax !== 'function') {
            throw new Error('Comety needs jQuery: load it before comety.js (or use include-jquery).');
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
        var retryDelay = 0;

        function log(level, message, detail) {
            if (window.console && typeof window.console[level] === 'function') {
                window.console[level]('Comety: ' + message, detail === undefined ? '' : detail);
            }
        }

        api.defaults = {
            // The updates URL, served by a CometyController subclass.
            url: settings.url,
            // Seconds a poll may take before the browser gives up; the server answers within half of it.
            timeout: typeof settings.timeout === 'number' ? settings.timeout : 10,
            // Receives the events of a response; returns how many it consumed. 0 stops the loop.
            handler: function () {
                window.location.reload();
                return 0;
            },
            // Receives every failed request. By default a page the server no longer knows reloads.
            errorHandler: function (jqXHR, textStatus, errorThrown) {
                if (jqXHR && (jqXHR.status === 403 || jqXHR.status === 409)) {
                    window.location.reload();
                } else {
                    log('warn', 'updates failed (' + (jqXHR ? jqXHR.status : '?') + ' ' + textStatus + ')', errorThrown);
                }
            },
            // Milliseconds before the first retry after a network or server error; doubles up to maxRetryDelay.
            retryDelay: 1000,
            maxRetryDelay: 30000
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

        function poll(loopParams, run) {
            var query = { timeout: loopParams.timeout };
            if (confirm !== null) {
                query.confirm = confirm;
            }
            var elapsed = elapsedSeconds();
            if (elapsed !== null) {
                query.elapsed = elapsed.toFixed(3);
            }

            pending = $.ajax({
                url: loopParams.url,
                type: 'GET',
                data: query,
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

        function received(loopParams, run, response) {
            var events = response.events;
            if (events && events.length) {
                var consumed;
                try {
                    consumed = loopParams.handler(events, loopParams);
                } catch (e) {
                    log('error', 'the handler failed; updates stop', e);
                    consumed = 0;
                }
                consumed = typeof consumed === 'number' && isFinite(consumed) ? Math.floor(consumed) : 0;
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
                poll(loopParams, run);
            }
        }

        function failed(loopParams, run, jqXHR, textStatus, errorThrown) {
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
            retryTimer = window.setTimeout(function () {
                retryTimer = null;
                if (run === generation) {
                    poll(loopParams, run);
                }
            }, retryDelay);
        }

        // Starts the poll loop with the defaults, overridden by `overrides` for this loop only.
        api.startUpdates = function (overrides) {
            api.stopUpdates();
            var loopParams = $.extend({}, api.defaults, overrides || {});
            if (!loopParams.url) {
                throw new Error('Comety: no updates URL (defaults.url).');
            }
            running = loopParams;
            retryDelay = 0;
            poll(loopParams, generation);
            return loopParams;
        };

        // Stops the poll loop; a poll in flight is abandoned (the server keeps its events).
        api.stopUpdates = function () {
            generation++;
            running = null;
            if (retryTimer !== null) {
                window.clearTimeout(retryTimer);
                retryTimer = null;
            }
            if (pending !== null) {
                var request = pending;
                pending = null;
                request.abort();
            }
        };

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
                url: api.defaults.url,
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
        // A page restored from the back/forward cache goes on where it stopped (or, if the server
        // forgot it meanwhile, gets a 403 and reloads).
        $(window).on('pageshow', function (event) {
            var loopParams = resumeOnShow;
            resumeOnShow = null;
            if (event.originalEvent && event.originalEvent.persisted && loopParams !== null && running === null) {
                api.startUpdates(loopParams);
            }
        });
        if (settings.autoStart) {
            $(function () {
                api.startUpdates();
            });
        }

        return api;
    }

    window.Comety = { create: create, protocolVersion: 1 };
})(window);
