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
        var retryDelay = 0;

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
        // A poll that succeeded while the loop goes on (the handler neither reloaded the page nor
        // stopped the loop) shows the page works: its reload mark goes, so that later trouble may
        // reload it once again. jQuery's global ajaxSuccess comes after the poll's own callbacks, so
        // the handler has decided by then. (With jQuery's global events turned off the mark stays,
        // and later trouble in this tab stops the page instead of reloading it: never a loop.)
        $(window.document).on('ajaxSuccess', function (event, jqXHR, ajaxSettings) {
            if (running === null || reloading || !ajaxSettings || ajaxSettings.type !== 'GET'
                || String(ajaxSettings.url).split('?')[0] !== String(running.url).split('?')[0]) {
                return;
            }
            var storage = tabStorage();
            try {
                if (storage) {
                    storage.removeItem(reloadMarkKey(running.url));
                }
            } catch (e) {
                // Nothing to remove where storage is refused.
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
