"""Config files for the comparison: the nginx origin and the three load balancers, each
given the same worker count and the two origin ports."""

BODY = ("portcullis-bench " * 8)[:127] + "\n"  # exactly 128 bytes
assert len(BODY.encode()) == 128


def origin_conf(tmp, ports, workers):
    return f"""
daemon off;
master_process on;
worker_processes {workers};
worker_rlimit_nofile 20000;
pid {tmp}/origin.pid;
error_log {tmp}/origin.err warn;
events {{ worker_connections 8192; multi_accept off; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_body_temp_path {tmp}/origin_body;
    proxy_temp_path {tmp}/origin_proxy;
    fastcgi_temp_path {tmp}/origin_fcgi;
    uwsgi_temp_path {tmp}/origin_uwsgi;
    scgi_temp_path {tmp}/origin_scgi;
    server {{
        listen 127.0.0.1:{ports[0]} backlog=4096;
        listen 127.0.0.1:{ports[1]} backlog=4096;
        location / {{
            default_type text/plain;
            return 200 "{BODY.strip()}\\n";
        }}
    }}
}}
"""


def nginx_conf(tmp, port, origins, workers):
    return f"""
daemon off;
master_process on;
worker_processes {workers};
worker_rlimit_nofile 20000;
pid {tmp}/nginx-lb.pid;
error_log {tmp}/nginx-lb.err warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    client_body_temp_path {tmp}/lb_body;
    proxy_temp_path {tmp}/lb_proxy;
    fastcgi_temp_path {tmp}/lb_fcgi;
    uwsgi_temp_path {tmp}/lb_uwsgi;
    scgi_temp_path {tmp}/lb_scgi;
    upstream origin {{
        server 127.0.0.1:{origins[0]};
        server 127.0.0.1:{origins[1]};
        keepalive 128;
        keepalive_requests 10000000;
        keepalive_timeout 60s;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


def haproxy_conf(port, origins, workers):
    return f"""
global
    nbthread {workers}
    maxconn 8000

defaults
    mode http
    timeout connect 2s
    timeout client 120s
    timeout server 30s
    timeout http-keep-alive 120s
    http-reuse always
    maxconn 8000

frontend bench
    bind 127.0.0.1:{port}
    default_backend origin

backend origin
    balance roundrobin
    option httpchk GET /healthz
    server o1 127.0.0.1:{origins[0]} check inter 2s
    server o2 127.0.0.1:{origins[1]} check inter 2s
"""


def portcullis_conf(port, admin, origins, workers):
    return f"""
# Portcullis with its defaults: outlier detection, circuit breakers, retries and
# metrics (admin listener) are on by default; active health checks are added here.
[server]
workers = {workers}

[admin]
address = "127.0.0.1:{admin}"

[log]
level = "warn"
access = "off"

[[listeners]]
name = "bench"
address = "127.0.0.1:{port}"

[[routes]]
cluster = "origin"

[clusters.origin]
backends = [{{ address = "127.0.0.1:{origins[0]}" }}, {{ address = "127.0.0.1:{origins[1]}" }}]

[clusters.origin.health_check]
path = "/healthz"
interval = "2s"
"""
