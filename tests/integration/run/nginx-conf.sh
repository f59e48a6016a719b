# nginx-conf.sh - sourced by nginx.sh and clients.sh: nginx_conf DIR LISTEN
# writes DIR/nginx.conf, Debian's own nginx.conf and default site with only
# what a test must change: the listen address, one worker, and files (pid,
# logs, the site's root) kept in DIR.  DIR/www holds the site: big.bin, 10 MiB.
nginx_conf() {
    local dir=$1 listen=$2
    mkdir -p "$dir/www"
    head -c 10485760 /dev/urandom > "$dir/www/big.bin"
    echo "hello from nginx" > "$dir/www/index.html"
    chmod -R a+rX "$dir"
    chmod a+x "$(dirname "$dir")"       # the worker runs as www-data
    sed -e 's/^worker_processes .*/worker_processes 1;/' \
        -e "s|^pid .*|pid $dir/nginx.pid;|" \
        -e "s|^\([[:space:]]*\)error_log .*|\1error_log $dir/error.log;|" \
        -e "s|^\([[:space:]]*\)access_log .*|\1access_log $dir/access.log;|" \
        -e "s|include /etc/nginx/sites-enabled/\*;|include $dir/site.conf;|" \
        /etc/nginx/nginx.conf > "$dir/nginx.conf"
    sed -e "s|listen 80 default_server;|listen $listen default_server;|" \
        -e '/listen \[::\]:80 default_server;/d' \
        -e "s|root /var/www/html;|root $dir/www;|" \
        /etc/nginx/sites-available/default > "$dir/site.conf"
    grep -q "worker_processes 1;" "$dir/nginx.conf" && grep -q "listen $listen" "$dir/site.conf" ||
        fail "Debian's nginx.conf or default site changed shape: cannot make nginx_conf"
}
