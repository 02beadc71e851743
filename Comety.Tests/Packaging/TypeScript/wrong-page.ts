// One wrong use, unmarked: the compiler must reject it.
declare const comety: Comety.Api;
comety.defaults.transport = 'websocket';
