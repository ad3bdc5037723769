#pragma once
// `floorwatch alarms ...` (read the store) and `floorwatch alarm ...` (ask the daemon).

namespace fw::cli {

int run_alarms_command(int argc, char** argv);  // alarms [history]
int run_alarm_command(int argc, char** argv);   // alarm ack|shelve|unshelve|disable|enable

}  // namespace fw::cli
