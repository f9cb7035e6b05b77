// channeld: the LINE channel-binding service, as deployed: no test hooks (see channeld_main.h).

#include "server/channeld_main.h"

int main(int argc, char** argv) { return linechannel::server::ChanneldMain(argc, argv, {}); }
