#pragma once
// The web page on a centre (daemon/http README.md): the same API and page as on a gateway, its
// reads from the central store (every gateway's orders, on SQLite or PostgreSQL) and its users
// and sessions kept in the central store too, so a restart keeps them and every central process
// sharing one PostgreSQL knows them. Actions go through the central control commands
// (order.act, order.report, attachment.upload), like `floorwatch orders ...` against a centre.
//
//   read pool worker ──▶ CentralReadSource: own CentralStore connection ──▶ the fold of every
//                        order, kept until order_events grows
//   WebApi (core) ──users->write()──▶ "central:web" store thread ──durable──▶ done (core)

#include <boost/asio/io_context.hpp>

#include "daemon/config/config.hpp"
#include "daemon/http/web_api.hpp"

namespace fw::central {

// The backend of a centre's WebApi, from its config (role: central, sync: set).
http::WebApiBackend central_web_backend(boost::asio::io_context& core, const Config& config);

}  // namespace fw::central
