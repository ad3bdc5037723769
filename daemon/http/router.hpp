#pragma once
// Method + path pattern -> what to run. Patterns are literal segments and "{name}" segments that
// match any one decoded segment: "/api/v1/orders/{id}/actions". The router matches segments that
// request_parts.hpp path_segments() decoded, so an escaped '/' inside an id stays inside it.

#include <boost/beast/http/verb.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace fw::http {

template <typename Action>
class Router {
  public:
    struct Match {
        const Action* action = nullptr;   // nullptr: no route for this method and path
        std::vector<std::string> params;  // the "{name}" segments, in order
        // The path exists, under other methods: answer 405 with this Allow header.
        std::string allow;
    };

    void add(boost::beast::http::verb method, std::string_view pattern, Action action) {
        Route route{method, {}, std::move(action)};
        std::string_view rest = pattern;
        if (rest.starts_with('/')) rest.remove_prefix(1);
        while (!rest.empty()) {
            const auto slash = rest.find('/');
            route.pattern.emplace_back(rest.substr(0, slash));
            if (slash == std::string_view::npos) break;
            rest.remove_prefix(slash + 1);
        }
        routes_.push_back(std::move(route));
    }

    Match match(boost::beast::http::verb method, const std::vector<std::string>& segments) const {
        Match found;
        for (const auto& route : routes_) {
            std::vector<std::string> params;
            if (!matches(route, segments, params)) continue;
            if (route.method == method || (method == boost::beast::http::verb::head &&
                                           route.method == boost::beast::http::verb::get)) {
                found.action = &route.action;
                found.params = std::move(params);
                found.allow.clear();
                return found;
            }
            if (!found.allow.empty()) found.allow += ", ";
            found.allow += std::string(boost::beast::http::to_string(route.method));
        }
        return found;
    }

  private:
    struct Route {
        boost::beast::http::verb method;
        std::vector<std::string> pattern;
        Action action;
    };

    static bool matches(const Route& route, const std::vector<std::string>& segments,
                        std::vector<std::string>& params) {
        if (route.pattern.size() != segments.size()) return false;
        for (std::size_t i = 0; i < segments.size(); ++i) {
            const std::string& part = route.pattern[i];
            if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
                params.push_back(segments[i]);
            } else if (part != segments[i]) {
                return false;
            }
        }
        return true;
    }

    std::vector<Route> routes_;
};

}  // namespace fw::http
