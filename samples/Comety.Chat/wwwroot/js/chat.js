// The room page: shows what Comety delivers, and sends what the user types.
(function ($) {
    'use strict';

    var chat = $('.chat');
    var channel = chat.data('channel');
    var lines = $('#lines');
    var members = $('#members');
    var status = $('#status');

    // Hours and minutes in the reader's time zone.
    function clock(at) {
        var date = new Date(at);
        return ('0' + date.getHours()).slice(-2) + ':' + ('0' + date.getMinutes()).slice(-2);
    }

    function time(at) {
        return $('<time>').attr('datetime', at).text(clock(at));
    }

    function addLine(kind, args, seq) {
        var line = $('<li>').addClass('line ' + kind).attr('data-seq', seq);
        if (kind === 'message') {
            // .text(): what people type is shown as text, never run.
            line.append($('<span class="who">').text(args.name), ' ', $('<span class="text">').text(args.text));
        } else {
            line.append($('<span class="notice">').text(args.name + (kind === 'join' ? ' joined' : ' left')));
        }
        line.append(' ', time(args.at));
        lines.append(line);
        lines.scrollTop(lines.prop('scrollHeight'));
    }

    function setMember(name, present) {
        var existing = members.children().filter(function () { return $(this).attr('data-name') === name; });
        if (present && !existing.length) {
            members.append($('<li>').attr('data-name', name).text(name));
        } else if (!present) {
            existing.remove();
        }
    }

    comety.defaults.handler = function (events) {
        for (var i = 0; i < events.length; i++) {
            var args = events[i][1];
            if (args.channel !== channel) {
                continue;
            }
            if (args.event === 'join' || args.event === 'leave') {
                setMember(args.name, args.event === 'join');
            }
            if (args.event === 'join' || args.event === 'leave' || args.event === 'message') {
                addLine(args.event, args, events[i][2]);
            }
        }
        status.text('');
        return events.length;
    };

    // Comety's own error handler reloads a page the server no longer knows (403, 409), at most
    // once before it needs a person; the room page only adds a word for the other failures.
    var reloadOnce = comety.defaults.errorHandler;
    comety.defaults.errorHandler = function (jqXHR, textStatus, errorThrown, loopParams) {
        if (jqXHR.status === 403 || jqXHR.status === 409) {
            reloadOnce(jqXHR, textStatus, errorThrown, loopParams);
        } else if (jqXHR.status !== 429) {
            status.text('Connection lost; reconnecting…');
        }
    };

    // The server renders the history's times in its own time zone; show them as the new lines show theirs.
    lines.find('time[datetime]').each(function () {
        $(this).text(clock($(this).attr('datetime')));
    });
    lines.scrollTop(lines.prop('scrollHeight'));
    $('#composer').on('submit', function (e) {
        e.preventDefault();
        var input = $('#message');
        var text = String(input.val()).trim();
        if (!text) {
            return;
        }
        comety.send({ text: text }, channel)
            .done(function () { input.val('').trigger('focus'); })
            .fail(function () { status.text('Your message could not be sent. Try again.'); });
    });
})(jQuery);
