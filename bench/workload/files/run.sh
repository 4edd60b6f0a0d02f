#!/bin/sh
# Starts benchapp with its host configuration.
set -eu
cd /srv/benchapp/current
exec /usr/bin/env sh -c 'echo benchapp would start here with "$(cat host.conf | wc -l)" settings'
