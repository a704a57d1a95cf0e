#!/usr/bin/env python3
# SIMULATED lab plumbing (not part of Mooring's production path): the lab's "floating IP".
# A TCP forwarder whose listening socket is made in the namespace it starts in (the machine's
# own, on a loopback address) and whose outgoing connections are made after setns(2) into a lab
# network namespace. A socket keeps the namespace it was created in, so one process bridges the
# two without any address, route or link in the machine's namespace: nothing is ever sent to a
# non-loopback address from there. Usage:
#   forward.py LISTEN_IP LISTEN_PORT NETNS_PATH TARGET_IP TARGET_PORT
import ctypes
import os
import socket
import sys
import threading

CLONE_NEWNET = 0x40000000


def pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        # Half-close so the other direction can finish; close both once either side is gone.
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


def serve(client: socket.socket, target: tuple) -> None:
    try:
        upstream = socket.create_connection(target, timeout=10)
        upstream.settimeout(None)
    except OSError:
        client.close()
        return
    t = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    t.start()
    pump(client, upstream)
    t.join()
    client.close()
    upstream.close()


def main() -> None:
    listen_ip, listen_port, netns, target_ip, target_port = sys.argv[1:6]
    server = socket.create_server((listen_ip, int(listen_port)), backlog=64, reuse_port=False)
    # setns applies to the calling thread; threads started after it inherit the namespace.
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(netns, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        sys.exit(f"forward: setns({netns}): {os.strerror(err)}")
    os.close(fd)
    print(f"forward: {listen_ip}:{listen_port} -> {target_ip}:{target_port} in {netns}", flush=True)
    while True:
        client, _ = server.accept()
        threading.Thread(target=serve, args=(client, (target_ip, int(target_port))), daemon=True).start()


if __name__ == "__main__":
    main()
