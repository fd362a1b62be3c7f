#!/usr/bin/env pvpython
"""pv_client.py - a ParaView client that waits for pvserver's reverse connection.

    pvpython pv_client.py [--port 11111] [--timeout 120] [--points 962]

It listens on PORT (all interfaces, as the ParaView GUI does), waits at most
TIMEOUT seconds for a pvserver started with --reverse-connection, then proves
that the pipeline ran on the server: it fetches a 32x32 sphere (962 points) and
the pid of the process a ProgrammableSource ran in.  Prints one line per fact
and exits 0, or exits 1 with a message when nothing connected in time.

paraview.simple.ReverseConnect() waits a fixed 60 s and aborts the Debian build
on timeout; this client opens the session itself with its own timeout.
"""
import argparse
import os
import sys

from paraview import servermanager
from paraview import simple


def wait_for_server(port, timeout):
    """What ReverseConnect does, with our own timeout instead of its fixed 60 s."""
    session = servermanager.vtkSMSessionClient()
    if not session.Connect("csrc://localhost:%d" % port, timeout):
        return None
    simple.Disconnect(globals(), False)
    pm = servermanager.vtkProcessModule.GetProcessModule()
    session_id = pm.RegisterSession(session)
    connection = servermanager.GetConnectionFromId(session_id)
    servermanager.SetActiveConnection(connection)
    # What simple.ReverseConnect() does after servermanager.ReverseConnect(), through public
    # API: simple's private helper for it moved between ParaView 5.x and 6 (a module then, a
    # package now), the two calls it makes did not.
    servermanager.ParaViewPipelineController().InitializeSession(connection.Session)
    return connection


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=11111)
    parser.add_argument("--timeout", type=int, default=120, help="seconds to wait")
    parser.add_argument("--points", type=int, default=962,
                        help="sphere points to expect (962 from one pvserver rank; "
                             "a sphere split over N ranks repeats its seams)")
    args = parser.parse_args()

    print("pv_client: waiting on port %d for a reverse connection (%d s)"
          % (args.port, args.timeout), flush=True)
    if wait_for_server(args.port, args.timeout) is None:
        print("pv_client: no pvserver connected within %d s" % args.timeout,
              file=sys.stderr, flush=True)
        return 1
    print("pv_client: server connected", flush=True)

    sphere = simple.Sphere(ThetaResolution=32, PhiResolution=32)
    points = servermanager.Fetch(sphere).GetNumberOfPoints()
    print("pv_client: sphere points: %d" % points, flush=True)

    # One point carrying, as point data, the pid of the process the script ran in.
    source = simple.ProgrammableSource()
    source.OutputDataSetType = "vtkPolyData"
    source.Script = (
        "import os, vtk\n"
        "pts = vtk.vtkPoints(); pts.InsertNextPoint(0, 0, 0)\n"
        "out = self.GetPolyDataOutput(); out.SetPoints(pts)\n"
        "a = vtk.vtkIntArray(); a.SetName('pid'); a.InsertNextValue(os.getpid())\n"
        "out.GetPointData().AddArray(a)\n")
    fetched = servermanager.Fetch(source)
    server_pid = int(fetched.GetPointData().GetArray("pid").GetValue(0))
    print("pv_client: server pid: %d, client pid: %d" % (server_pid, os.getpid()),
          flush=True)

    simple.Disconnect()
    ok = points == args.points and server_pid != os.getpid()
    print("pv_client: %s" % ("OK" if ok else "FAILED"), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
