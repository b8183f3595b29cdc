@echo off
rem kubectl (>= 1.26) completes `kubectl initctl ...` by running kubectl_complete-initctl from
rem PATH (on Windows any PATHEXT extension, so .cmd works); the plugin answers in cobra's format.
kubectl-initctl.exe __complete -- %*
