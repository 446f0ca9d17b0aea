import HTTPKit
