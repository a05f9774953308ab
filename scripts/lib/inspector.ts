/**
 * A node's memory as `process.memoryUsage()` reports it right after a full garbage collection,
 * asked through the inspector protocol (the node started with `--inspect=127.0.0.1:<port>`):
 * the heap a benchmark charges to rooms is then what they keep, not what awaits collection.
 */
import WebSocket from 'ws';

export interface Memory {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** A full GC in the node whose inspector listens on `port`, then its memory usage (`gc` false: as it is, without the GC). */
export async function memoryAfterGc(port: number, gc = true): Promise<Memory> {
  const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const ws = new WebSocket(target!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let next = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<any>((resolve, reject) => {
      const id = ++next;
      const onMessage = (data: Buffer) => {
        const reply = JSON.parse(data.toString());
        if (reply.id !== id) return;
        ws.off('message', onMessage);
        if (reply.error) reject(new Error(reply.error.message));
        else resolve(reply.result);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    if (gc) await call('HeapProfiler.collectGarbage');
    const result = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    return JSON.parse(result.result.value) as Memory;
  } finally {
    ws.close();
  }
}
