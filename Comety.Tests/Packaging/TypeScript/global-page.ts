// A page that loads comety.js with <comety-script>, written in TypeScript against comety.d.ts.
// Every line marked @ts-expect-error is a wrong use the declarations must reject: the compiler
// fails on a marked line that compiles.
declare const jQuery: Comety.JQueryLike;
declare const comety: Comety.Api;

comety.defaults.handler = (events, loopParams) => {
    for (const [sender, args, seq] of events) {
        const who: string = sender;
        const type: string | undefined = args.event;
        const position: number = seq;
        console.log(who, type, position, loopParams.url);
    }
    return events.length;
};
comety.defaults.errorHandler = (jqXHR, textStatus, errorThrown, loopParams) => {
    const reason: unknown = jqXHR.responseJSON?.reason;
    console.warn(jqXHR.status, textStatus, errorThrown, reason, jqXHR.getResponseHeader('Retry-After'), loopParams.transport);
};
comety.defaults.retryDelay = 500;
comety.defaults.maxRetryDelay = 10000;
comety.defaults.streamOpenTimeout = 2000;
comety.defaults.transport = 'stream';

const loop: Comety.LoopParams = comety.startUpdates({ url: '/chat/updates', timeout: 20, transport: 'poll' });
const running: boolean = comety.isRunning();
comety.send({ text: 'hi' }, 'room-1').done(() => console.log('sent', loop.url, running));
comety.subscribe('room-1').fail((request) => console.warn(request.status));
comety.unsubscribe('room-1');
comety.stopUpdates();

const other: Comety.Api = Comety.create(jQuery, { url: '/other/updates', timeout: 5, transport: 'auto', confirm: 12, antiforgery: { header: 'X-Token', token: 't' } });
const viaWindow: Comety.Api = window.Comety.create(jQuery);
const version: number = Comety.protocolVersion;
console.log(other, viaWindow, version);

// @ts-expect-error: a transport comety.js does not know
comety.defaults.transport = 'websocket';
// @ts-expect-error: the handler returns how many events it consumed
comety.defaults.handler = (events: Comety.Event[]) => { console.log(events); };
// @ts-expect-error: a sequence number is a number
comety.defaults.handler = (events: Comety.Event[]) => events.filter(([, , seq]) => seq === 'x').length;
// @ts-expect-error: startUpdates takes loop settings, not a URL
comety.startUpdates('/chat/updates');
// @ts-expect-error: retryDelay is milliseconds, a number
comety.startUpdates({ retryDelay: '1s' });
// @ts-expect-error: subscribe needs a channel
comety.subscribe();
// @ts-expect-error: no such member
comety.restart();
// @ts-expect-error: create's settings are an object
Comety.create(jQuery, '/chat/updates');
