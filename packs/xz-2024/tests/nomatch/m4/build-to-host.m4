# build-to-host.m4 serial 3
dnl Copyright (C) 2023 Free Software Foundation, Inc.
