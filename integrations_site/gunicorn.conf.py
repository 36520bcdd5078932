"""gunicorn settings for the web process, from the environment (README: Configuration, Deploying).

    gunicorn -c integrations_site/gunicorn.conf.py integrations_site.wsgi

Threaded workers (gthread): the pages and the API wait on the database and the Playground polls for live output,
so a few processes with several threads each serve far more requests than processes alone.
"""

from integrations_site.env import envbool, envint, envstr

bind = [envstr("WEB_BIND") or f"{envstr('WEB_HOST', '127.0.0.1')}:{envint('WEB_PORT', 8000, minimum=1)}"]
workers = envint("WEB_WORKERS", 2, minimum=1)
worker_class = "gthread"
threads = envint("WEB_THREADS", 8, minimum=1)
timeout = envint("WEB_TIMEOUT", 60, minimum=1)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (with jitter, so not all at once) to bound any slow growth of memory.
max_requests = envint("WEB_MAX_REQUESTS", 10_000, minimum=0)
max_requests_jitter = max_requests // 10
# X-Forwarded-Proto (the HTTPS redirect and secure cookies depend on it) is trusted only from these addresses.
forwarded_allow_ips = envstr("WEB_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
reload = envbool("WEB_RELOAD", False)

# Access log on stdout, without query strings or the Referer (either may carry a token or a prompt).
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
# gunicornc's control socket is one path per user: two servers on a host would fight over it, and nothing uses it.
control_socket_disable = True


def post_worker_init(worker):
    """The application is loaded: keep what it loaded out of the garbage collector's full passes (core.heap)."""
    from core.heap import heap_freeze

    worker.log.info("froze %d objects of the loaded application (core.heap)", heap_freeze())
