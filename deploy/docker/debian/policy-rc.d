#!/bin/sh
# No package starts a service in an image build (the container starts what it runs).
exit 101
