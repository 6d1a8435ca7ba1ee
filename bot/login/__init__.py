"""Ways a person proves who they are on the web: an SMS code to a phone, or WeChat 网页授权."""
