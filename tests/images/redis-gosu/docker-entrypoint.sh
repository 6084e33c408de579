#!/bin/sh
# As the official redis image's entry point: started as root, give /data to
# redis and start again as redis through gosu; otherwise run the command.
set -e

# first arg is `-f` or `--some-option`, or a config file: run redis-server
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

# allow the container to be started with `--user`
if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find /data \! -user redis -exec chown redis '{}' +
	exec gosu redis "$0" "$@"
fi

exec "$@"
