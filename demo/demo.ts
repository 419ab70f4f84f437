/**
 * `deno task demo`: a guided tour of gonet against the real Linux kernel, entirely inside a network
 * namespace it creates and deletes. It brings a stack up on a TAP, lets the kernel ping the stack
 * and the stack ping the kernel, shows both ARP tables, exchanges UDP datagrams both ways, sends a
 * fragmented ping, and prints a short report.
 * @module
 */

import { createTestNamespace } from "../tests/helpers/netns.ts";
import { OutputWatcher } from "../tests/helpers/output_watcher.ts";
import { gonet, gonetArgv, startGonetUp } from "../tests/helpers/gonet_process.ts";

interface Step {
  name: string;
  ok: boolean;
  detail: string;
}

const steps: Step[] = [];

function record(name: string, ok: boolean, detail: string, output = ""): void {
  steps.push({ name, ok, detail });
  console.log(`\n== ${name}: ${ok ? "ok" : "FAILED"} (${detail})`);
  if (output.trim() !== "") console.log(output.trimEnd().replace(/^/gm, "   "));
}

async function demo(): Promise<boolean> {
  if (Deno.uid() !== 0) {
    console.error("gonet demo: needs root (it creates a network namespace and a TAP device)");
    return false;
  }
  await using ns = await createTestNamespace("gonet-demo");
  console.log(`gonet demo in network namespace ${ns.name} (deleted at the end)`);
  const up = await startGonetUp(ns, [
    "--tap",
    "gonet0",
    "--ip",
    "10.0.0.2/24",
    "--host-ip",
    "10.0.0.1/24",
  ]);
  console.log(up.readyLine);
  try {
    const kping = await ns.run(["ping", "-c", "3", "-i", "0.2", "10.0.0.2"]);
    record("kernel pings the stack", kping.code === 0, "ping -c 3 10.0.0.2", kping.stdout);

    const sping = await gonet(ns, ["ping", "-c", "3", "-i", "0.2", "10.0.0.1"]);
    record("stack pings the kernel", sping.code === 0, "gonet ping -c 3 10.0.0.1", sping.stdout);

    const frag = await ns.run(["ping", "-c", "2", "-i", "0.2", "-s", "20000", "10.0.0.2"]);
    record(
      "kernel pings the stack with 20000-byte fragmented echoes",
      frag.code === 0,
      "ping -s 20000",
      frag.stdout,
    );

    const arp = await gonet(ns, ["arp"]);
    record("the stack's ARP cache", arp.code === 0, "gonet arp", arp.stdout);
    const neigh = await ns.run(["ip", "neigh", "show", "dev", "gonet0"]);
    record("the kernel's neighbour table", neigh.stdout.includes(up.mac), "ip neigh", neigh.stdout);

    // Kernel UDP socket -> stack. The kernel side repeats its datagram every 200 ms (at most 25
    // times) until `gonet udp listen --count 1` has one and exits: no guessing when it is bound.
    const listener = ns.spawn(gonetArgv(["udp", "listen", "9000", "--count", "1"]), {
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    const sender = ns.spawn([
      Deno.execPath(),
      "eval",
      "--unstable-net",
      `
      const s = Deno.listenDatagram({ transport: "udp", hostname: "10.0.0.1", port: 0 });
      for (let i = 0; i < 25; i++) {
        await s.send(new TextEncoder().encode("hello from the kernel\\n"),
          { transport: "udp", hostname: "10.0.0.2", port: 9000 });
        await new Promise((r) => setTimeout(r, 200));
      }`,
    ], { stdin: "null", stdout: "null", stderr: "null" });
    const heard = await listener.output();
    sender.kill("SIGKILL");
    await sender.status;
    const got = new TextDecoder().decode(heard.stdout);
    record(
      "kernel UDP socket to the stack",
      got === "hello from the kernel\n",
      "gonet udp listen 9000",
      got + new TextDecoder().decode(heard.stderr),
    );

    // Stack -> kernel UDP socket: the kernel side says "ready" once bound, then prints one datagram.
    const receiver = ns.spawn([
      Deno.execPath(),
      "eval",
      "--unstable-net",
      `
      const s = Deno.listenDatagram({ transport: "udp", hostname: "10.0.0.1", port: 9001 });
      console.log("ready");
      const [data, from] = await s.receive();
      console.log(new TextDecoder().decode(data), "from", from.hostname + ":" + from.port);`,
    ], {
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    });
    const lines = new OutputWatcher(receiver.stdout);
    await lines.until("ready");
    const udpSend = await gonet(ns, ["udp", "send", "10.0.0.1", "9001", "hello from gonet"]);
    await lines.until("from 10.0.0.2");
    await receiver.status;
    const text = lines.text;
    record(
      "stack to kernel UDP socket",
      udpSend.code === 0 && text.includes("hello from gonet from 10.0.0.2:"),
      "gonet udp send 10.0.0.1 9001",
      text.replace("ready\n", ""),
    );

    // TCP, kernel -> stack: `gonet tcp listen --once` prints what the kernel's client sends and
    // answers with its own stdin.
    const tcpListen = ns.spawn(gonetArgv(["tcp", "listen", "8080", "--once"]), {
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    });
    await new OutputWatcher(tcpListen.stderr).until("listening");
    const answer = tcpListen.stdin.getWriter();
    await answer.write(new TextEncoder().encode("hello from gonet over TCP\n"));
    await answer.close();
    const kernelClient = await ns.run([
      Deno.execPath(),
      "eval",
      `
      const c = await Deno.connect({ hostname: "10.0.0.2", port: 8080 });
      await c.write(new TextEncoder().encode("hello from the kernel over TCP\\n"));
      await c.closeWrite();
      console.log("kernel got: " + (await new Response(c.readable).text()).trim());`,
    ]);
    const tcpIn = await new Response(tcpListen.stdout).text();
    const listened = await tcpListen.status;
    record(
      "kernel TCP client to the stack",
      listened.code === 0 && tcpIn === "hello from the kernel over TCP\n" &&
        kernelClient.stdout.includes("kernel got: hello from gonet over TCP"),
      "gonet tcp listen 8080 --once",
      `stack printed: ${tcpIn}${kernelClient.stdout}`,
    );

    // TCP, stack -> kernel: a kernel server counts the bytes of a 1 MB `gonet tcp connect`.
    const kernelServer = ns.spawn([
      Deno.execPath(),
      "eval",
      `
      const l = Deno.listen({ hostname: "10.0.0.1", port: 9090 });
      console.log("ready");
      const c = await l.accept();
      let n = 0;
      for await (const chunk of c.readable) n += chunk.length;
      console.log("kernel server received " + n + " bytes");`,
    ], {
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    });
    const serverOut = new OutputWatcher(kernelServer.stdout);
    await serverOut.until("ready");
    const connect = ns.spawn(gonetArgv(["tcp", "connect", "10.0.0.1", "9090"]), {
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    });
    const upload = connect.stdin.getWriter();
    await upload.write(new Uint8Array(1 << 20).fill(0x61));
    await upload.close();
    const connected = await connect.output();
    await serverOut.until("received");
    await kernelServer.status;
    const serverLog = serverOut.text;
    record(
      "stack TCP client to a kernel server",
      connected.code === 0 && serverLog.includes("received 1048576 bytes"),
      "gonet tcp connect 10.0.0.1 9090 < 1 MB",
      serverLog.replace("ready\n", ""),
    );

    // HTTP: examples/http_server.ts runs node:http on a second stack (TAP web0, 10.0.1.2) and the
    // kernel fetches a page from it.
    const web = ns.spawn(
      [
        Deno.execPath(),
        "run",
        "-A",
        new URL("../examples/http_server.ts", import.meta.url).pathname,
      ],
      { stdin: "null", stdout: "piped", stderr: "inherit" },
    );
    const webOut = new OutputWatcher(web.stdout);
    await webOut.until("serving");
    const fetched = await ns.run([
      Deno.execPath(),
      "eval",
      `
      const r = await fetch("http://10.0.1.2:8080/demo");
      console.log(r.status, (await r.text()).trim());`,
    ]);
    web.kill("SIGTERM");
    await web.status;
    record(
      "kernel HTTP client to node:http on the stack",
      fetched.stdout.includes("200 hello from gonet: GET /demo"),
      "fetch http://10.0.1.2:8080/demo",
      fetched.stdout + fetched.stderr,
    );

    const stats = await gonet(ns, ["stats"]);
    record(
      "counters",
      stats.code === 0,
      "gonet stats",
      stats.stdout.split("\n").slice(0, 24).join("\n"),
    );
  } finally {
    const stopped = await up.stop();
    console.log(`\n${stopped.stderr.trim()}`);
  }
  const passed = steps.filter((s) => s.ok).length;
  console.log(`\ngonet demo report: ${passed}/${steps.length} steps ok`);
  for (const s of steps) console.log(`  [${s.ok ? "ok" : "FAILED"}] ${s.name}`);
  return passed === steps.length;
}

if (import.meta.main) {
  Deno.exit((await demo()) ? 0 : 1);
}
