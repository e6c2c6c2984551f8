@echo off
rem The bella CLI shipped inside the desktop app, run on the app's own Electron-as-Node.
setlocal
set "ELECTRON_RUN_AS_NODE=1"
"%~dp0..\..\bella.exe" "%~dp0..\app.asar.unpacked\bin\bella.cjs" %*
