#!/bin/sh
# httpd runs this for GET / because /www has no index.html.
PATH=/usr/local/bin:/usr/bin:/bin
printf 'Content-Type: text/plain\r\n\r\n'
echo "v2 $(hostname)"
