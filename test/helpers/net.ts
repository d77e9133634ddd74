import { createServer } from "node:net";

/** Whether a socket can listen on `host` here (e.g. `::1` where IPv6 is off). */
export function canListen(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(0, host, () => s.close(() => resolve(true)));
  });
}
