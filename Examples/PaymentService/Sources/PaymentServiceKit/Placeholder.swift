enum PlaceholderPaymentServiceKit {}
